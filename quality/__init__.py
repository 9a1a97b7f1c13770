"""Quality inspection (质检): automatic, language-independent measures of a recorded call.

Files:
- ``track``: one party's track (8 kHz 16-bit samples) → speech segments, syllable nuclei, level.
- ``measures``: the pure fold of two tracks (and the hold intervals) into a call's measures —
  speech rate, talk-over and who interrupted, silences, level problems — with the flags and the
  moments an inspector should jump to; ``Limits`` holds the configurable thresholds.
- ``phrases``: the Chinese-only checks on transcripts (opening/closing phrase, "听不清/再说一遍"),
  skipped with the reason when the model is not Chinese.
- ``wav``: reading recordings (one mono file per party, or an interleaved stereo file).

May import: the standard library and webrtcvad (the ``speech`` extra, imported where used).
Nothing from ``hotline`` or any other capability: the CLI and the service hand audio in.
"""
