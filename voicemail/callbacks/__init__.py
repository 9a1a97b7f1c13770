"""The morning callback queue (回访): valid voicemails called back once, by one person, on record.

models: the Callback and its attempts; rules: pure decisions (outcomes, retries, expiry);
service: the database operations (enqueue, claim, outcome); dial: AMI Originate from the
staff member's seat; api: HTTP routes; worker: the periodic sweep of expired claims;
play: listening to a message on the local sound card; errors: its refusals; notifier: what it
announces (changed, claims_expired), implemented at the top over the live feed.
"""
