"""Reading the spool: metadata and audio are checked, never trusted."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.voicemail.wavs import RATE, write_tone
from voicemail.spool import parse_meta, scan_spool
from voicemail.wavinfo import inspect_wav


def test_meta_with_chinese_name_and_withheld_number() -> None:
    name = base64.b64encode("张三丰".encode()).decode()
    meta = parse_meta(f"uniqueid=1795813129.24\nlinkedid=1795813129.24\nroute=after_hours\n"
                      f"caller_num=\ncaller_withheld=1\ncaller_name_b64={name}\ncall_epoch=1795813129\n"
                      "ended=1795813140\nrecord_status=HANGUP\n")
    assert meta.caller_name == "张三丰"
    assert meta.caller_withheld and meta.caller_num is None
    assert meta.route == "after_hours" and meta.ended and meta.record_status == "HANGUP"
    assert meta.call_time is not None and meta.call_time.timestamp() == 1795813129
    assert meta.problems == ()


def test_meta_problems_are_reported_not_raised() -> None:
    meta = parse_meta("garbage line\ncaller_name_b64=%%%\ncall_epoch=soon\nroute=somewhere\n")
    joined = " ".join(meta.problems)
    for words in ("元数据行格式错误", "base64", "来电时间格式错误", "未知的来电路由",
                  "缺少 Asterisk 通话标识"):
        assert words in joined


def test_anonymous_caller_counts_as_withheld() -> None:
    assert parse_meta("uniqueid=1.2\ncaller_num=anonymous\n").caller_withheld


def test_scan_pairs_audio_and_meta(tmp_path: Path) -> None:
    (tmp_path / "1795813129-24.wav").write_bytes(b"x")
    (tmp_path / "1795813129-24.meta").write_text("uniqueid=1795813129.24\n")
    (tmp_path / "1795813130-1.meta").write_text("uniqueid=1795813130.1\n")
    (tmp_path / "notes.txt").write_text("not ours")
    (tmp_path / "bad name!.wav").write_bytes(b"x")
    items = scan_spool(tmp_path)
    assert [(i.recording_id, i.audio is not None, i.meta is not None) for i in items] == [
        ("1795813129-24", True, True), ("1795813130-1", False, True)]


def test_wav_inspection(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    write_tone(good, 2.5)
    info = inspect_wav(good)
    assert info.ok and abs(info.duration_s - 2.5) < 0.01 and info.sample_rate == RATE

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert inspect_wav(empty).problem == "录音文件为空（0 字节）"

    text = tmp_path / "text.wav"
    text.write_text("这不是音频")
    assert inspect_wav(text).problem == "不是 WAV 录音文件"

    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: 44 + 8000])
    info = inspect_wav(truncated)
    assert not info.ok and "录音被截断" in (info.problem or "")
    assert abs(info.duration_s - 0.5) < 0.01
