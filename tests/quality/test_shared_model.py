"""Several recording spools (one per PBX) transcribe over one Vosk model per process: each spool's
worker keeps its own recognizer (a KaldiRecognizer may not be shared between threads), the model
is loaded once (it is read-only; alphacep/vosk-api#1651) and the triage worker shares it too.

No Chinese model is available to the suite (see test_hold.py): the real Korean model is loaded and
decodes the real recordings; only its language, which gates the phrase checks, is reported as
Chinese here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hotline.config import load_config
from hotline.config.ini import write_overrides
from hotline.db import upgrade_database
from hotline.wiring import SpoolTranscriber, build_app
from quality.worker import RecordingWorker, run_pass
from tests.quality.test_hold import gap_tracks  # noqa: F401
from tests.quality.test_ingest import NOW, put_recording
from tests.two_halls import two_hall_conf
from voicemail import transcribe
from voicemail.transcribe import default_test_model_path, shared_model
from voicemail.triage_worker import TriageWorker


def test_two_spools_share_one_model_with_a_recognizer_each(
        tmp_path: Path, gap_tracks: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    real_info = transcribe.model_info
    monkeypatch.setattr(transcribe, "model_info",
                        lambda path: dataclasses.replace(real_info(path), language="zh"))
    model = default_test_model_path()
    conf = two_hall_conf(tmp_path / "hall")
    write_overrides(conf, {"recording.spool": str(tmp_path / "main-rec"),
                           "pbx west.recording_spool": str(tmp_path / "west-rec"),
                           "recording.archive": str(tmp_path / "calls"), "vosk.model": str(model),
                           "database.url": f"sqlite:///{tmp_path}/models.db"})
    config = load_config(conf)
    upgrade_database(config)
    app = build_app(config)  # never started: the passes are run here, one after the other
    workers = [w for w in app.state.spool_workers if isinstance(w, RecordingWorker)]
    assert sorted(w.spool.name for w in workers) == ["main-rec", "west-rec"]
    for number, worker in enumerate(workers):
        put_recording(worker.spool, f"1795813129-{number}-0{7 + number}", gap_tracks)
        assert run_pass(worker.settings, app.state.sessionmaker, clock=lambda: NOW).transcribed == 1
    app.state.engine.dispose()
    spools = [worker.settings.transcription().transcribe for worker in workers]
    assert all(isinstance(spool, SpoolTranscriber) for spool in spools)
    first, second = (spool.transcriber for spool in spools)  # type: ignore[union-attr]
    assert first is not None and second is not None and first is not second
    assert first.model is second.model is shared_model(model)
    triage = TriageWorker(config, app.state.sessionmaker)
    triage._load()  # what its start does, in a thread
    assert triage.pool is not None and triage.pool.model is first.model
    triage.pool.close()
