"""Hold time from Asterisk's own AMI events (recording 11: a baresip seat holds the citizen for about
two seconds), into the stored measures; and the service's Chinese phrase checks: skipped with the
reason for a model that is not Chinese (the suite's real Korean model), transcribed after measuring
otherwise, one unreadable file never blocking the next recording.

No Chinese Vosk model is available to the suite: the transcribing path runs with the real Korean
model (so the checks' answers are meaningless, only the mechanics are shown); the phrase logic on
Chinese transcripts is tested in test_measures.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import load_config
from hotline.config.secrets import write_demo_secrets
from hotline.db import make_engine, make_session_factory, upgrade_database
from quality.hold import HoldLog, HoldSnapshot, on_recording
from quality.ingest import archive_path, transcribe_pending
from quality.models import CallRecording
from quality.phrases import Transcription
from quality.worker import RecordingSettings, RecordingWorker, run_pass
from tests.ami_transcripts import find_event, load_transcript
from tests.quality.synth import Utterance, build_call
from tests.quality.test_ingest import NOW, STARTED, put_recording
from tests.voicemail import audio_fixtures as fx

CAPTURE = "11-sip-seat-baresip-hold"
REPO = Path(__file__).resolve().parents[2]
RID = "1795813129-0-07"
LINKEDID = "1795813129.0"



@pytest.fixture(scope="module")
def gap_tracks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The operator speaks, both are silent for several seconds, the citizen speaks."""
    work = tmp_path_factory.mktemp("gap")
    call = build_call(work, [Utterance("operator", 0.3, fx.PINYIN_SENTENCES[0]),
                             Utterance("citizen", 14.0, fx.PINYIN_SENTENCES[1])])
    return fx.write_wav(work / "op.wav", call.operator), fx.write_wav(work / "cit.wav", call.citizen)


def stored(sessions: sessionmaker[Session]) -> list[CallRecording]:
    with sessions() as session:
        return list(session.scalars(select(CallRecording).order_by(CallRecording.id)))


def test_recorded_hold_is_placed_by_asterisks_timestamps() -> None:
    messages = load_transcript(CAPTURE)
    hold = messages[find_event(messages, "Hold")]
    unhold = messages[find_event(messages, "Unhold")]
    log = HoldLog()
    worker = RecordingWorker(RecordingSettings(Path("spool"), Path("archive"), 1), sessionmaker())
    for message in messages:
        log.apply(message, received_at=1.0)  # a read time far off: Asterisk's own times must win
        worker.on_ami_event(message)
    (span,) = log.spans(hold["Linkedid"])
    assert span == (float(hold["Timestamp"]), float(unhold["Timestamp"]))
    assert 1.5 < span[1] - span[0] < 3.0  # the scenario held for about two seconds
    assert worker.holds.spans(hold["Linkedid"]) == [span]
    # the recording that Asterisk announced belongs to the same call (its metadata names the linkedid)
    recorded = messages[find_event(messages, "UserEvent", UserEvent="HotlineRecording")]
    assert recorded["Linkedid"] == hold["Linkedid"]
    assert log.watching_since == 1.0  # FullyBooted (no Timestamp at login): the read time


def test_without_timestamps_the_read_time_counts_and_a_new_login_forgets_open_holds() -> None:
    messages = [{k: v for k, v in m.items() if k != "Timestamp"} for m in load_transcript(CAPTURE)]
    hold, unhold = find_event(messages, "Hold"), find_event(messages, "Unhold")
    log = HoldLog()
    for index, message in enumerate(messages):
        log.apply(message, received_at=1000.0 + index)
    assert log.spans(messages[hold]["Linkedid"]) == [(1000.0 + hold, 1000.0 + unhold)]
    log.apply(messages[hold], 5000.0)
    log.apply({"Event": "FullyBooted"}, 5001.0)
    assert log.spans(messages[hold]["Linkedid"], until=6000.0) == [(1000.0 + hold, 1000.0 + unhold)]
    assert log.watching_since == 5001.0


def test_a_hang_up_on_hold_ends_the_hold_and_two_channels_holds_merge() -> None:
    log = HoldLog()
    seat = {"Uniqueid": "1.2", "Linkedid": "1.1"}
    citizen = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    log.apply({"Event": "Hold", **seat, "Timestamp": "100.5"}, 0.0)
    log.apply({"Event": "Hold", **citizen, "Timestamp": "102.0"}, 0.0)
    log.apply({"Event": "Unhold", **seat, "Timestamp": "104.0"}, 0.0)
    assert log.spans("1.1") == [(100.5, 104.0)] and log.spans("1.1", until=110.0) == [(100.5, 110.0)]
    log.apply({"Event": "Hangup", **citizen, "Timestamp": "106.0"}, 0.0)
    log.apply({"Event": "Hangup", "Uniqueid": "9.9", "Linkedid": "9.9"}, 0.0)  # never held: not kept
    assert log.snapshot(200.0).spans == {"1.1": [(100.5, 106.0)]}
    later = f"{106.0 + 7 * 3600}"
    log.apply({"Event": "Hold", "Uniqueid": "2.1", "Linkedid": "2.1", "Timestamp": later}, 0.0)
    assert log.spans("1.1") == []  # forgotten hours later (its recording was measured long ago)


def test_holds_on_the_recording_clipped_merged_and_whether_the_service_saw_them() -> None:
    spans = [(95.0, 105.0), (104.0, 110.0), (200.0, 300.0)]
    assert on_recording(spans, 100.0, 60.0) == ([(0.0, 10.0)], [10.0])
    snapshot = HoldSnapshot({"c1": [(110.0, 120.0)]}, watching_since=50.0)
    assert snapshot.for_call("c1", 100.0, 60.0, 160.0) == ([(10.0, 20.0)], [10.0], True)
    assert snapshot.for_call("c2", 100.0, 60.0) == ([], [], True)  # watched, never held
    assert HoldSnapshot({}, 150.0).for_call("c1", 100.0, 60.0).observed is False  # came later
    assert snapshot.for_call("c1", None, 60.0) == ([], [], False)


def test_a_hold_the_files_lack_becomes_a_point_and_later_holds_move_earlier() -> None:
    """What the sandbox showed: the seat phone on hold sends and gets no audio, MixMonitor writes
    nothing meanwhile, and both files are shorter than the call by the hold."""
    # call 100-150 (50 s), files 47 s: the first hold (3 s) is missing, the second one is recorded
    spans, lengths = on_recording([(110.0, 113.0), (130.0, 134.0)], 100.0, 47.0, ended=150.0)
    assert spans == [(10.0, 10.0), (27.0, 31.0)] and lengths == [3.0, 4.0]
    # files 0.1 s short: MixMonitor's late start, no hold missing
    assert on_recording([(110.0, 113.0)], 100.0, 49.9, ended=150.0) == ([(10.0, 13.0)], [3.0])


def test_hold_reaches_the_stored_measures_and_is_no_silence(tmp_path: Path, gap_tracks: tuple[Path, Path],
                                                            sessions: sessionmaker[Session]) -> None:
    settings = RecordingSettings(tmp_path / "spool", tmp_path / "archive", retention_days=180)
    put_recording(settings.spool, RID, gap_tracks)
    run_pass(settings, sessions, clock=lambda: NOW)
    (plain,) = stored(sessions)
    (silence,) = [m for m in plain.measures["moments"] if m["kind"] == "silence"]
    assert plain.measures["hold_s"] == 0 and plain.measures["hold_observed"] is False
    assert plain.flags == ["long_silence"]
    segments = plain.measures["segments"]
    assert segments["operator"][0][0] < 1.0 and segments["citizen"][0][0] > 13.0

    with sessions() as session, session.begin():
        session.execute(CallRecording.__table__.delete())
    put_recording(settings.spool, RID, gap_tracks)
    held = (STARTED + silence["start_s"] - 0.5, STARTED + silence["end_s"] + 0.5)
    run_pass(settings, sessions, clock=lambda: NOW, holds=HoldSnapshot({LINKEDID: [held]}, STARTED - 60.0))
    (row,) = stored(sessions)
    assert row.measures["hold_count"] == 1 and row.measures["hold_observed"] is True
    assert row.measures["hold_s"] == pytest.approx(silence["end_s"] - silence["start_s"] + 1.0, abs=0.02)
    assert row.measures["silence_count"] == 0 and "long_silence" not in row.flags
    (mark,) = [m for m in row.measures["moments"] if m["kind"] == "hold"]
    assert mark["start_s"] == pytest.approx(silence["start_s"] - 0.5, abs=0.01)


def korean_config(tmp_path: Path, model: Path) -> object:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("hotline.conf", "remit.conf"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    write_demo_secrets(tmp_path / "hotline.conf")
    return load_config(tmp_path / "hotline.conf", overrides={"vosk.model": str(model)})


def test_service_skips_the_phrase_checks_when_the_model_is_not_chinese(
        tmp_path: Path, gap_tracks: tuple[Path, Path], sessions: sessionmaker[Session]) -> None:
    from hotline.wiring import _recording_settings
    from voicemail.transcribe import default_test_model_path

    config = korean_config(tmp_path, default_test_model_path())
    settings = dataclasses.replace(_recording_settings(config), spool=tmp_path / "spool",
                                   archive=tmp_path / "archive")
    assert settings.transcription().transcribe is None
    put_recording(settings.spool, RID, gap_tracks)
    report = run_pass(settings, sessions, clock=lambda: NOW)
    (row,) = stored(sessions)
    phrases = row.measures["phrases"]
    assert phrases["skipped"].startswith("语音识别模型不是中文（ko）") and phrases["pending"] is False
    assert phrases["opening_phrase"] is None and report.transcribed == 0
    missing = korean_config(tmp_path / "none", tmp_path / "no-model")
    assert "未配置语音识别模型" in _recording_settings(missing).transcription().skipped


def test_transcribed_after_measuring_and_one_bad_file_blocks_nothing(
        tmp_path: Path, gap_tracks: tuple[Path, Path], sessions: sessionmaker[Session]) -> None:
    from voicemail.transcribe import Transcriber, default_test_model_path

    model = Transcriber(default_test_model_path())
    heard: list[str] = []

    def transcribe(path: Path) -> str:
        heard.append(path.name)
        return model.transcribe(path).text

    settings = RecordingSettings(tmp_path / "spool", tmp_path / "archive", 180,
                                 transcription=lambda: Transcription(transcribe))
    for rid in ("1795813129-0-07", "1795813130-0-08"):
        put_recording(settings.spool, rid, gap_tracks)
    run_pass(settings, sessions, clock=lambda: NOW)  # measures both, transcribes the first
    first, second = stored(sessions)
    assert first.phrases_checked_at is not None and second.phrases_checked_at is None
    assert second.measures["phrases"]["pending"] is True
    archive_path(settings.archive, second.operator_file or "").write_bytes(b"RIFF broken")
    assert transcribe_pending(settings.archive, sessions, Transcription(transcribe)) == 1
    assert transcribe_pending(settings.archive, sessions, Transcription(transcribe)) == 0
    first, second = stored(sessions)
    assert first.measures["phrases"]["repeat_requests"] == 0 and first.measures["phrases"]["pending"] is False
    assert second.measures["phrases"]["skipped"].startswith("语音识别失败")
    assert second.phrases_checked_at is not None and second.measures["operator_speech_s"] > 0
    assert len(heard) == 3  # both tracks of the first, the broken operator track of the second


def test_two_nodes_transcribe_each_recording_once(
        tmp_path: Path, gap_tracks: tuple[Path, Path], postgres_url: str) -> None:
    """Several nodes on one PostgreSQL: the phrase checks of a recording are claimed, so two
    nodes passing at the same moment transcribe each track once, never twice."""
    import threading
    import time

    upgrade_database(postgres_url)
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    heard: list[str] = []
    lock = threading.Lock()

    def transcribe(path: Path) -> str:
        with lock:
            heard.append(path.name)
        time.sleep(0.5)  # long enough for the other node to reach the same row
        return "您好"

    settings = RecordingSettings(tmp_path / "spool", tmp_path / "archive", 180,
                                 transcription=lambda: Transcription(transcribe))
    for rid in ("1795813129-0-07", "1795813130-0-08", "1795813131-0-09"):
        put_recording(settings.spool, rid, gap_tracks)
    try:
        run_pass(settings, sessions, clock=lambda: NOW)  # measures all three, transcribes the first
        heard.clear()
        nodes = [threading.Thread(target=transcribe_pending,
                                  args=(settings.archive, sessions, Transcription(transcribe)))
                 for _ in range(2)]
        for node in nodes:
            node.start()
        for node in nodes:
            node.join()
        assert sorted(heard) == sorted(set(heard)) and len(heard) == 4, heard
        assert all(row.phrases_checked_at is not None for row in stored(sessions))
    finally:
        engine.dispose()
