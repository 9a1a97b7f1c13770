"""The morning callback queue (回访): valid voicemails called back once, by one person, on record.

Files: ``models`` (the Callback and its attempts), ``rules`` (pure decisions: outcomes, retries,
expiry), ``service`` (the database operations: enqueue, claim, outcome), ``dial`` (the
``CallbackDialler`` port: is the seat free, ring the seat then the citizen; the hall implements
it in telephony/callback_dial.py), ``api`` (HTTP routes; the dial route is handed the port by
hotline/wiring.py), ``worker`` (the periodic sweep of expired claims), ``play`` (listening to a
message on the local sound card), ``errors`` (its refusals: hotline.errors.Refusal subclasses),
``notifier`` (what it announces: changed, claims_expired; implemented at the top over the live
feed).
"""
