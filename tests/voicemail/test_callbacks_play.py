"""Listening on the command line: a clear sentence when sounddevice, PortAudio or a sound
device is missing (this machine has no sound card)."""

from __future__ import annotations

import sys
import wave
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotline.cli import EXIT_FAILED, EXIT_REFUSED, main
from voicemail.callbacks import play
from voicemail.callbacks.play import SoundUnavailable, play_wav


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000)
    return path


def test_missing_library_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    with pytest.raises(SoundUnavailable, match="没有安装 Python 包 sounddevice"):
        play_wav(_wav(tmp_path / "a.wav"), 1)


def test_no_output_device_is_said_plainly(tmp_path: Path) -> None:
    fake = SimpleNamespace(query_devices=lambda: [{"name": "mic", "max_output_channels": 0}])
    with pytest.raises(SoundUnavailable, match="本机没有声音输出设备") as refused:
        play_wav(_wav(tmp_path / "a.wav"), 7, sd=fake)
    assert "/api/voicemails/7/audio" in str(refused.value)


def test_a_device_plays_the_whole_file(tmp_path: Path) -> None:
    written: list[bytes] = []

    class Stream:
        def __init__(self, **kwargs: object) -> None:
            assert kwargs == {"samplerate": 8000, "channels": 1, "dtype": "int16"}

        def __enter__(self) -> Stream:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def write(self, data: bytes) -> None:
            written.append(data)

    fake = SimpleNamespace(query_devices=lambda: [{"max_output_channels": 2}],
                           RawOutputStream=Stream)
    assert play_wav(_wav(tmp_path / "a.wav"), 1, sd=fake) == pytest.approx(1.0)
    assert sum(len(b) for b in written) == 16000


@pytest.fixture
def hall_dir(tmp_path: Path) -> Path:
    """hotline.conf and its secrets, with the database and archive in tmp."""
    import shutil

    from tests.hall_pbx import REPO, write_overrides

    hall = tmp_path / "hall"
    hall.mkdir()
    shutil.copy(REPO / "hotline.conf", hall / "hotline.conf")
    shutil.copy(REPO / "remit.conf", hall / "remit.conf")
    shutil.copy(REPO / "hotline.secrets", hall / "hotline.secrets")
    write_overrides(hall / "hotline.conf", {"database.url": f"sqlite:///{tmp_path}/db/p.db",
                                            "voicemail.archive": str(tmp_path / "archive")})
    return hall


def test_cli_on_this_machine_explains_why_it_cannot_play(
        hall_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Real path: the register, the archive, then sounddevice on a machine without sound."""
    from hotline.config import load_config
    from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
    from voicemail.models import Voicemail

    config = load_config(hall_dir / "hotline.conf")
    upgrade_database(config)
    config.voicemail.archive.mkdir(parents=True, exist_ok=True)
    _wav(config.voicemail.archive / "m.wav")
    engine = make_engine(config.database.url)
    with session_scope(make_session_factory(engine)) as session:
        session.add(Voicemail(recording_id="r1", archive_name="m.wav", state="valid"))
    engine.dispose()
    code = main(["-c", str(hall_dir / "hotline.conf"), "voicemail", "play", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_FAILED
    assert any(m.split("：")[0] in err for m in (play.MISSING_LIBRARY, play.MISSING_PORTAUDIO,
                                                play.NO_DEVICE)), err
    assert main(["-c", str(hall_dir / "hotline.conf"), "voicemail", "play", "99"]) == EXIT_REFUSED
    assert "留言 99 不存在" in capsys.readouterr().err
