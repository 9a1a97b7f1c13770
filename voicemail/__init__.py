"""After-hours voicemail: loss-free ingestion, transcription, triage, screening and callbacks.

Files: ``spool`` (what Asterisk leaves, read without following links), ``ingest`` and ``worker``
(spool → private archive → one row), ``models`` (the register), ``audio_analysis`` (tones, noise,
speech, acoustic likeness), ``numbers`` (Chinese phone numbers, spoken or written),
``transcribe`` (Vosk), ``triage`` (pure verdicts with Chinese reasons) beside ``triage_service``
and ``triage_worker`` (its shell), ``override`` and ``screening`` (the morning screener's
decisions), ``model_install``, ``api`` (routes), ``errors`` (its refusals: hotline.errors.Refusal
subclasses), ``notifier`` (what it announces: registered, triaged, overridden; the top implements
it over the live feed), ``callbacks/`` (the callback queue).

May import: base (its triage settings live in ``hotline.config.triage``), ``remit`` (the department
suggestion), ``ivr.names``. Never telephony (callbacks dial through a port wiring hands in; the
places that still import it directly are listed as debt in pyproject.toml's contracts) and never
the top floor.
"""
