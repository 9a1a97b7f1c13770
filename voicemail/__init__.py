"""After-hours voicemail: loss-free ingestion, transcription, triage, screening and callbacks.

Files: ``spool`` (what Asterisk leaves, read without following links), ``ingest`` and ``ingest_worker``
(spool → private archive → one row), ``models`` (the register), ``audio_analysis`` (tones, noise,
speech, acoustic likeness), ``numbers`` (Chinese phone numbers, spoken or written),
``transcribe`` (Vosk), ``triage`` (pure verdicts with Chinese reasons) beside ``triage_service``
and ``triage_worker`` (its shell), ``override`` and ``screening`` (the morning screener's
decisions), ``model_install``, ``api`` (routes), ``errors`` (its refusals: hotline.errors.Refusal
subclasses), ``notifier`` (what it announces: registered, triaged, overridden; the top implements
it over the live feed), ``callbacks/`` (the callback queue).

Several nodes on one PostgreSQL run ingestion and triage each: a spool entry is claimed with an
advisory lock while it is handled (``hotline.db.claims``; the spool and archive are one shared
folder), a message to triage with ``SELECT … FOR UPDATE SKIP LOCKED`` and ``claimed_by`` /
``claimed_until``; a callback is claimed by one conditional UPDATE.

May import: base (its triage settings live in ``hotline.config.triage``), ``remit`` (the department
suggestion), ``ivr.names``. Never telephony nor seat_manager (callbacks dial through the
``CallbackDialler`` port in ``callbacks/dial``, which the hall implements and wiring hands in) and
never the top floor. The contracts are in pyproject.toml ([tool.importlinter]);
tests/test_layers.py runs them.
"""
