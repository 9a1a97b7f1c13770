"""The automatic quality measures on synthetic calls whose truth is known (espeak-ng Mandarin placed
at known moments), and the pure fold on hand-made tracks."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import pytest

from hotline.cli import main
from quality.measures import Limits, measure_call
from quality.phrases import check_phrases
from quality.track import Track, analyze_track
from quality.wav import RecordingError, read_channels, read_mono
from tests.quality.synth import Call, Utterance, build_call, syllables
from tests.voicemail import audio_fixtures as fx

S = fx.PINYIN_SENTENCES


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("qa-synth")


@pytest.fixture(scope="module")
def call(workdir: Path) -> Call:
    """Operator, citizen interrupting her at ~5 s, a 6 s silence, the operator again."""
    return build_call(workdir, [
        Utterance("operator", 0.5, S[0], speed=170),
        Utterance("citizen", 5.0, S[1], speed=170, voice=fx.VOICES[1]),
        Utterance("operator", 18.0, S[4], speed=170),
    ])


def test_speech_rate_matches_the_pinyin_count(call: Call) -> None:
    op = analyze_track(call.operator)
    measured = len(op.nuclei) / op.speech_s * 60
    assert measured == pytest.approx(call.operator_rate, rel=0.15)
    assert len(op.nuclei) == pytest.approx(syllables(S[0]) + syllables(S[4]), rel=0.15)


def test_speech_time_of_each_party(call: Call) -> None:
    m = measure_call(analyze_track(call.operator), analyze_track(call.citizen))
    truth_op = sum(p.speaking_s for p in call.of("operator"))
    truth_cit = sum(p.speaking_s for p in call.of("citizen"))
    assert m.operator_speech_s == pytest.approx(truth_op, abs=0.6)
    assert m.citizen_speech_s == pytest.approx(truth_cit, abs=0.6)


def test_talk_over_found_with_the_interrupter(call: Call) -> None:
    m = measure_call(analyze_track(call.operator), analyze_track(call.citizen))
    (truth,) = call.talk_overs
    assert m.talk_over_count == 1
    assert m.talk_over_s == pytest.approx(truth[1] - truth[0], abs=0.4)
    assert m.interruptions_by_citizen == 1 and m.interruptions_by_operator == 0
    (moment,) = [x for x in m.moments if x.kind == "talk_over"]
    assert moment.who == "citizen" and moment.start_s == pytest.approx(truth[0], abs=0.3)


def test_silence_length_and_hold_left_out(call: Call) -> None:
    op, cit = analyze_track(call.operator), analyze_track(call.citizen)
    truth = max(b - a for a, b in call.silences)
    m = measure_call(op, cit, limits=Limits(long_silence_s=3.0))
    assert m.longest_silence_s == pytest.approx(truth, abs=0.5)
    assert m.silence_count == 1 and "long_silence" in m.flags
    gap = next(x for x in m.moments if x.kind == "silence")
    held = measure_call(op, cit, hold=[(gap.start_s, gap.end_s)], limits=Limits(long_silence_s=3.0))
    assert held.silence_count == 0 and held.hold_s == pytest.approx(gap.end_s - gap.start_s)
    assert "long_silence" not in held.flags


def test_fast_operator_is_flagged_slow_one_not(workdir: Path) -> None:
    silent = analyze_track(array("h", bytes(2 * 8000 * 30)))
    for speed, fast in ((120, False), (300, True)):
        script = [Utterance("operator", t, S[i % 5], speed=speed) for i, t in enumerate((0.5, 9.0, 18.0))]
        op = analyze_track(build_call(workdir, script).operator)
        m = measure_call(op, silent, limits=Limits(too_fast_per_min=260))
        assert ("too_fast" in m.flags) is fast, (speed, m.operator_syllables_per_min)
        assert (m.too_fast_share > 0.5) is fast


def test_quiet_and_clipping_operator(workdir: Path) -> None:
    quiet = build_call(workdir, [Utterance("operator", 0.2, S[2], gain=0.1)])
    loud = build_call(workdir, [Utterance("operator", 0.2, S[2], gain=8.0)])
    normal = build_call(workdir, [Utterance("operator", 0.2, S[2])])
    silent = analyze_track(array("h", bytes(16000)))
    assert measure_call(analyze_track(quiet.operator), silent).flags == ("too_quiet",)
    assert measure_call(analyze_track(loud.operator), silent).flags == ("clipping",)
    assert measure_call(analyze_track(normal.operator), silent).flags == ()


def _track(segments: list[tuple[float, float]], duration: float = 60.0) -> Track:
    return Track(duration, tuple(segments), (), -20.0, 0.0)


def test_fold_counts_who_interrupted_whom() -> None:
    op = _track([(0, 10), (20, 30), (40, 41)])
    cit = _track([(8, 12), (15, 22), (40.9, 45)])
    m = measure_call(op, cit)
    assert m.talk_over_count == 2  # the 0.1 s at 40.9 is back-channel
    assert (m.interruptions_by_citizen, m.interruptions_by_operator) == (1, 1)
    assert m.talk_over_s == pytest.approx(4.0)
    assert m.longest_silence_s == pytest.approx(10.0)  # 30-40; 12-15 is shorter than the 5 s limit
    assert m.silence_count == 1
    assert [x.who for x in m.moments if x.kind == "talk_over"] == ["citizen", "operator"]


def test_on_hold_speaking_at_once_is_no_talk_over() -> None:
    op = _track([(0, 10), (20, 30), (40, 41)])
    cit = _track([(8, 12), (15, 22), (40.9, 45)])
    m = measure_call(op, cit, hold=[(19.0, 23.0)])  # the 20-22 overlap falls in the hold
    assert (m.talk_over_count, m.interruptions_by_operator, m.hold_count, m.hold_s) == (1, 0, 1, 4.0)
    assert [x.kind for x in m.moments] == ["talk_over", "hold", "silence"]


def test_chinese_phrase_checks_and_their_skip() -> None:
    zh = check_phrases("您好 零七 号 工作人员 为您服务 …… 感谢 您的 来电 再见", "我 没听清 你 再说一遍", "zh")
    assert (zh.opening_phrase, zh.closing_phrase, zh.repeat_requests, zh.skipped) == (True, True, 2, None)
    missing = check_phrases("喂 你 说", "好的", "zh")
    assert (missing.opening_phrase, missing.closing_phrase, missing.repeat_requests) == (False, False, 0)
    korean = check_phrases("안녕하세요", "네", "ko")
    assert korean.opening_phrase is None and korean.repeat_requests is None
    assert "不是中文" in korean.skipped
    assert "未配置" in check_phrases(None, None, None).skipped


def test_cli_prints_one_json_object(call: Call, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    op = fx.write_wav(tmp_path / "op.wav", call.operator)
    cit = fx.write_wav(tmp_path / "cit.wav", call.citizen)
    assert main(["qa", "analyze", str(op), str(cit), "--json", "--long-silence", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("operator_syllables_per_min", "talk_over_s", "talk_over_count", "longest_silence_s",
                "operator_speech_s", "citizen_speech_s"):
        assert isinstance(out[key], int | float), key
    assert out["talk_over_count"] == 1 and out["silence_count"] == 1
    assert out["phrases"]["skipped"]


def test_cli_refuses_bad_input(call: Call, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    op = fx.write_wav(tmp_path / "op.wav", call.operator)
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    assert main(["qa", "analyze", str(op), str(text), "--json"]) == 2
    assert "不是可读的 PCM WAV" in capsys.readouterr().err
    assert main(["qa", "analyze", str(op), str(op), "--hold", "9-3"]) == 2
    assert "开始 < 结束" in capsys.readouterr().err


def test_stereo_recording_splits_into_parties(call: Call, tmp_path: Path) -> None:
    n = min(len(call.operator), len(call.citizen))
    interleaved = [s for pair in zip(call.operator[:n], call.citizen[:n], strict=True) for s in pair]
    stereo = fx.write_wav(tmp_path / "call.wav", interleaved, channels=2)
    left, right = read_channels(stereo)
    assert left == call.operator[:n] and right == call.citizen[:n]
    with pytest.raises(RecordingError, match="有 2 个声道"):
        read_mono(stereo)


def test_cli_skips_the_phrase_checks_with_a_model_that_is_not_chinese(
        call: Call, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from voicemail.transcribe import default_test_model_path

    op = fx.write_wav(tmp_path / "op.wav", call.operator)
    cit = fx.write_wav(tmp_path / "cit.wav", call.citizen)
    model = default_test_model_path()  # the Korean stand-in model of the test suite
    assert main(["qa", "analyze", str(op), str(cit), "--json", "--model", str(model)]) == 0
    phrases = json.loads(capsys.readouterr().out)["phrases"]
    assert phrases["opening_phrase"] is None and phrases["repeat_requests"] is None
    assert "不是中文（ko）" in phrases["skipped"]
