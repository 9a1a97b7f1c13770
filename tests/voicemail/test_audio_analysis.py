"""Audio analysis on real audio: espeak-ng speech, sox noise, synthesised telephony tones."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from tests.voicemail import audio_fixtures as fx
from voicemail.audio_analysis import (
    AudioFeatures,
    AudioFormatError,
    analyze,
    analyze_file,
    load_pcm,
    voice_distance,
)

FRAME_TOLERANCE_S = 0.1  # frames are 30 ms; smoothing bridges and trims a few


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> list[int]:
    """About 13 s of Mandarin from espeak-ng, two voices."""
    return fx.speech_samples(audio_dir, fx.PINYIN_SENTENCES[:2], fx.VOICES[:2])


def features_of(path: Path, samples: list[int]) -> AudioFeatures:
    return analyze_file(fx.write_wav(path, samples))


def test_speech_with_silence_around_it(audio_dir: Path, speech: list[int]) -> None:
    f = features_of(audio_dir / "speech.wav", fx.silence(1.5) + speech + fx.silence(3.0))
    assert f.speech_s > 8.0
    assert abs(f.leading_silence_s - 1.5) < FRAME_TOLERANCE_S * 2
    assert abs(f.content_start_s - 1.5) < FRAME_TOLERANCE_S and f.content_end_s < f.duration_s - 2.5
    assert f.trailing_silence_s > 2.5
    assert not (f.silent or f.tone_only or f.noise_only)
    assert f.dtmf_digits == "" and not (f.busy_tone or f.fax_cng or f.fax_ced)
    assert f.level_spread_db > 12  # speech swings between syllables and pauses
    assert f.clipping_ratio == 0.0
    assert -40 < f.rms_dbfs < -10


def test_silence(audio_dir: Path) -> None:
    f = features_of(audio_dir / "silence.wav", fx.silence(10.0))
    assert f.silent and f.speech_s == 0.0 and f.active_s == 0.0
    assert f.duration_s == 10.0 and f.leading_silence_s == f.trailing_silence_s == 10.0
    assert f.rms_dbfs <= -100


def test_quiet_line_noise_counts_as_silence(audio_dir: Path) -> None:
    f = features_of(audio_dir / "line.wav", fx.line_noise(8.0))
    assert f.silent and f.speech_s == 0.0


def test_half_second_clip(audio_dir: Path) -> None:
    f = features_of(audio_dir / "clip.wav", fx.silence(0.5))
    assert f.duration_s == 0.5 and f.silent and f.speech_s == 0.0


@pytest.mark.parametrize("colour", ["whitenoise", "pinknoise", "brownnoise"])
def test_sox_noise_is_noise_only(audio_dir: Path, colour: str) -> None:
    f = analyze_file(fx.sox_noise(audio_dir / f"{colour}.wav", 10.0, colour))
    assert f.noise_only and not f.tone_only and not f.silent
    assert f.level_spread_db < 6.0 and f.events_s < 0.5
    if colour == "whitenoise":
        assert f.prediction_gain_db < 1.0  # spectrally flat


def test_speech_then_phone_left_off_the_hook_is_not_noise_only(audio_dir: Path, speech: list[int]) -> None:
    noise = list(fx.read_samples(fx.sox_noise(audio_dir / "tail.wav", 45.0, "whitenoise", 0.05)))
    f = features_of(audio_dir / "speech_tail.wav", fx.mix(speech[: 5 * fx.RATE], noise))
    assert not f.noise_only
    assert f.events_s > 1.0


def test_speech_under_heavy_noise_is_not_noise_only(audio_dir: Path, speech: list[int]) -> None:
    noise = fx.read_samples(fx.sox_noise(audio_dir / "loud.wav", len(speech) / fx.RATE, "whitenoise", 0.15))
    f = features_of(audio_dir / "speech_noise.wav", fx.mix(speech, noise))
    assert not f.noise_only and f.speech_s > 8.0


def test_dtmf_digits(audio_dir: Path) -> None:
    f = features_of(audio_dir / "dtmf.wav", fx.silence(1.0) + fx.dtmf("13812345678#*0") + fx.silence(1.0))
    assert f.dtmf_digits == "13812345678#*0"
    assert f.tone_only and f.speech_s == 0.0
    assert f.tones == ("dtmf",)


def test_dtmf_pressed_while_speaking(audio_dir: Path, speech: list[int]) -> None:
    f = features_of(audio_dir / "speech_dtmf.wav", speech + fx.dtmf("0#"))
    assert f.dtmf_digits == "0#"
    assert not f.tone_only and f.speech_s > 8.0


@pytest.mark.parametrize(("name", "freqs", "on_s"), [
    ("china busy", [450], 0.35), ("china congestion", [450], 0.7), ("north american busy", [480, 620], 0.5),
])
def test_busy_tones(audio_dir: Path, name: str, freqs: list[int], on_s: float) -> None:
    f = features_of(audio_dir / "busy.wav", fx.cadence(freqs, on_s, on_s, 8.0))
    assert f.busy_tone and f.tone_only, name
    assert f.speech_s == 0.0 and not f.noise_only


def test_continuous_dial_tone_is_a_tone_but_not_busy(audio_dir: Path) -> None:
    f = features_of(audio_dir / "dial.wav", fx.tones([450], 5.0))
    assert f.tone_only and not f.busy_tone and f.speech_s == 0.0


def test_caller_hung_up_and_the_line_recorded_the_busy_tone(audio_dir: Path, speech: list[int]) -> None:
    f = features_of(audio_dir / "speech_busy.wav", speech + fx.cadence([450], 0.35, 0.35, 10.0))
    assert f.busy_tone and not f.tone_only
    assert f.speech_s > 8.0
    assert f.speech_segments[-1][1] <= f.content_end_s <= len(speech) / fx.RATE  # without the tone tail


def test_fax_calling_tone(audio_dir: Path) -> None:
    f = features_of(audio_dir / "cng.wav", fx.fax_cng(12.0))
    assert f.fax_cng and not f.fax_ced and f.tone_only and f.speech_s == 0.0
    assert not f.busy_tone
    assert f.tones == ("fax",)


def test_fax_answer_tone(audio_dir: Path) -> None:
    f = features_of(audio_dir / "ced.wav", fx.silence(0.5) + fx.tones([2100], 3.0) + fx.silence(0.5))
    assert f.fax_ced and f.tone_only


def test_clipping(audio_dir: Path, speech: list[int]) -> None:
    f = features_of(audio_dir / "clipped.wav", fx.scale(speech, 12.0))
    assert f.clipping_ratio > 0.01
    assert f.peak_dbfs > -0.1


def test_sixteen_khz_stereo_is_converted(tmp_path: Path) -> None:
    rate = 16000
    left = [round(6000 * math.sin(2 * math.pi * 450 * i / rate)) for i in range(rate * 2)]
    interleaved = [s for pair in zip(left, left, strict=True) for s in pair]
    path = tmp_path / "stereo16k.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(array("h", interleaved).tobytes())
    pcm = load_pcm(path)
    assert (pcm.source_rate, pcm.source_channels) == (16000, 2)
    assert len(pcm.samples) == 2 * fx.RATE
    assert analyze(pcm.samples).tone_only


def test_unsupported_audio_is_rejected_clearly(tmp_path: Path) -> None:
    odd = tmp_path / "cd.wav"
    with wave.open(str(odd), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(b"\0\0" * 4410)
    with pytest.raises(AudioFormatError, match="44100 Hz"):
        load_pcm(odd)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all")
    with pytest.raises(AudioFormatError, match="not a PCM WAV"):
        load_pcm(junk)


def test_a_whole_minute_is_analysed_to_its_end(speech: list[int]) -> None:
    """Speed is measured in bench/audio_analysis.py; here, that a long message is judged whole."""
    minute = array("h", (speech * 6)[: 60 * fx.RATE])
    tones = array("h", (fx.dtmf("1234567890") * 40)[: 60 * fx.RATE])
    spoken, keyed = analyze(minute), analyze(tones)
    assert spoken.duration_s == keyed.duration_s == 60.0
    assert spoken.speech_s > 40.0 and spoken.content_end_s > 55.0 and not spoken.tone_only
    assert keyed.tone_only and keyed.speech_s < 1.0


# ---------------------------------------------------------------- tones after G.711, noise, voices


@pytest.mark.parametrize("law", ["u-law", "a-law"])
@pytest.mark.parametrize(("name", "keys", "expected"), [
    ("ordinary", lambda: fx.dtmf("13812345678#"), "13812345678#"),
    ("auto-dialler 40/40 ms", lambda: fx.dtmf_twisted("13987654321", 0.04, 0.04), "13987654321"),
    ("auto-dialler 50/50 ms", lambda: fx.dtmf_twisted("0123456789", 0.05, 0.05), "0123456789"),
    ("ivr 0 0 # 9, quiet and twisted", lambda: fx.dtmf_twisted("00#9", 0.08, 0.3, 1500, 2500), "00#9"),
])
def test_dtmf_after_g711_at_any_speed(audio_dir: Path, law: str, name: str, keys, expected: str) -> None:
    f = analyze(array("h", fx.g711(fx.silence(1.0) + keys() + fx.silence(1.0), audio_dir, law)))
    assert f.dtmf_digits == expected, name
    assert f.tone_only and f.speech_s == 0.0 and not f.noise_only


@pytest.mark.parametrize(("name", "make", "tone"), [
    ("china busy", lambda: fx.cadence([450], 0.35, 0.35, 8.0), "busy"),
    ("north american busy", lambda: fx.cadence([480, 620], 0.5, 0.5, 8.0), "busy"),
    ("china ringback", lambda: fx.ringback_cn(12.0), "ringback"),
    ("north american ringback", lambda: fx.ringback_na(12.0), "ringback"),
    ("north american dial tone", lambda: fx.tones([350, 440], 4.0), "dial"),
    ("special information tone", lambda: fx.sit(3), "sit"),
    ("fax calling tone", lambda: fx.fax_cng(12.0), "fax"),
])
@pytest.mark.parametrize("law", ["u-law", "a-law"])
def test_call_progress_tones_after_g711(audio_dir: Path, name: str, make, tone: str, law: str) -> None:
    f = analyze(array("h", fx.g711(make(), audio_dir, law)))
    assert f.tone_only and tone in f.tones, (name, f.tones)
    assert f.speech_s == 0.0 and not f.noise_only


def test_a_beep_then_hiss_is_a_beep_not_speech(audio_dir: Path) -> None:
    hiss = fx.read_samples(fx.sox_noise(audio_dir / "hiss.wav", 8.0, "whitenoise", 0.02))
    f = analyze(array("h", fx.g711(fx.tones([1000], 0.5) + list(hiss), audio_dir)))
    assert f.beep_at_start and "beep" in f.tones
    assert f.noise_only and f.speech_s == 0.0


@pytest.mark.parametrize(("rate_hz", "depth", "colour"), [(0.3, 0.8, "pinknoise"), (0.5, 0.9, "brownnoise"),
                                                          (0.8, 0.95, "brownnoise")])
def test_slowly_swelling_street_noise_has_no_syllables(audio_dir: Path, rate_hz: float, depth: float,
                                                       colour: str) -> None:
    """Its level spread is that of speech (13-23 dB), but it does not rise and fall 3-8 times a second."""
    noise = fx.modulated_noise(audio_dir / "street.wav", 20.0, rate_hz, depth, colour)
    f = analyze(array("h", noise))
    assert f.level_spread_db > 10.0
    assert f.noise_only and f.syllabic_s < 1.5


def test_speech_has_syllables_even_under_noise(audio_dir: Path, speech: list[int]) -> None:
    noise = fx.read_samples(fx.sox_noise(audio_dir / "loud2.wav", len(speech) / fx.RATE, "whitenoise", 0.15))
    clean, noisy = analyze(array("h", speech)), features_of(audio_dir / "sn.wav", fx.mix(speech, noise))
    assert clean.syllabic_s > 5.0 and noisy.syllabic_s > 2.0
    assert not clean.noise_only and not noisy.noise_only


def test_voice_distance_finds_a_repeat_through_g711_and_noise(audio_dir: Path, speech: list[int]) -> None:
    first = analyze(array("h", speech))
    first_sentence = list(fx.read_samples(fx.espeak(audio_dir / "s0.wav", fx.PINYIN_SENTENCES[0])))
    repeat = analyze(array("h", fx.g711(fx.silence(1.0) + first_sentence, audio_dir, "a-law")))
    other = analyze(fx.read_samples(fx.espeak(audio_dir / "s4.wav", fx.PINYIN_SENTENCES[4])))
    same_words_other_voice = analyze(fx.read_samples(
        fx.espeak(audio_dir / "s0f.wav", fx.PINYIN_SENTENCES[0], fx.VOICES[1])))
    alike = voice_distance(first.speech_print, repeat.speech_print)
    assert alike is not None and alike < 80
    for different in (other, same_words_other_voice):
        distance = voice_distance(first.speech_print, different.speech_print)
        assert distance is not None and distance > 100
    assert voice_distance((), repeat.speech_print) is None


@pytest.mark.parametrize("law", ["u-law", "a-law"])
def test_the_edges_of_busy_bursts_are_not_named_ringback(audio_dir: Path, law: str) -> None:
    quiet_busy = [s // 6 for s in fx.cadence([450], 0.35, 0.35, 10.0)]
    f = analyze(array("h", fx.g711(quiet_busy, audio_dir, law)))
    assert f.tones == ("busy",)
