"""Quality inspection (质检): two-track call recordings and their automatic measures.

Pure, language-independent measures:
- ``track``: one party's track (8 kHz 16-bit samples) → speech segments, syllable nuclei, level.
- ``measures``: the pure fold of two tracks (and the hold intervals) into a call's measures —
  speech rate, talk-over and who interrupted, silences, level problems — with the flags and the
  moments an inspector should jump to; ``Limits`` holds the configurable thresholds.
- ``phrases``: the Chinese-only checks on transcripts (opening/closing phrase, "听不清/再说一遍"),
  skipped with the reason when the model is not Chinese; ``Transcription`` is the transcriber the
  wiring hands in (this package loads no model: voicemail's Vosk helpers are another capability).
- ``hold``: hold intervals per call from Asterisk's AMI Hold/Unhold (its own Timestamps), placed
  on a recording's timeline.
- ``wav``: reading recordings (one mono file per party, or an interleaved stereo file).

The recording register (the thin shell around them):
- ``spool``: what Asterisk's MixMonitor leaves in ``[recording] pbx_spool`` (see
  ``ivr/recording_plan.py``), read without trusting it.
- ``models``: the ``call_recordings`` table (migration 0009).
- ``ingest``: spool → private archive → one row (loss-free, idempotent), measuring (with the
  holds and each track's speech segments for the page's timeline), then the phrase checks from a
  transcript, retention.
- ``worker``: runs ``ingest`` at start-up, on the ``HotlineRecording`` AMI event, and on a timer;
  folds Hold/Unhold into a ``hold.HoldLog``.

Inspection:
- ``sampling``: pure rules — the day's sample, the scoring form and totals, the weekly summary.
- ``api``: ``/api/qa`` routes (inspector role; operators hear and see only their own calls);
  ``errors``: their refusals (hotline.errors.Refusal subclasses).

May import: the standard library, webrtcvad (the ``speech`` extra, imported where used), the base
(``hotline.db``, ``hotline.tasks``, ``hotline.auth``: a token's bound seat is ``principal.seat``,
see ``hotline/auth/seats.py``), SQLAlchemy, FastAPI and ``seat_manager.directory``. No other
capability and no top floor:
the wiring hands in folders and limits (``hotline/wiring.py``), the CLI hands in files.
"""
