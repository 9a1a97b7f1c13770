"""Test-audio generation (sox, espeak-ng) and the pure-Python analysis the phone tests rely on."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import pytest

from hotline.phones import audio

RATE = audio.SAMPLE_RATE


def write_wav(path: Path, samples: list[int], rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        clipped = (max(-32768, min(32767, s)) for s in samples)
        wav.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in clipped))
    return path


def sine(freq: float, seconds: float, amplitude: float = 0.4, phase: float = 0.0) -> list[int]:
    return [
        round(amplitude * 32767 * math.sin(2 * math.pi * freq * n / RATE + phase))
        for n in range(round(seconds * RATE))
    ]


def assert_telephony_format(path: Path) -> None:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)


def test_tone_is_padded_telephony_audio_with_energy_at_its_frequency(tmp_path: Path) -> None:
    path = audio.tone(tmp_path / "t.wav", 1800, 1.0, pad_to=3.0)
    assert_telephony_format(path)
    report = audio.analyse(path, (440, 1000, 1800))
    assert report.duration_s == pytest.approx(3.0, abs=0.01)
    assert report.active_s == pytest.approx(1.0, abs=0.06)
    assert report.tone_share[1800] > 0.99
    assert report.tone_share[440] < 0.001
    assert report.tone_share[1000] < 0.001
    assert report.heard(1800, 0.9)
    assert not report.heard(1000, 0.01)


def test_two_equal_tones_share_the_energy(tmp_path: Path) -> None:
    mixed = [a + b for a, b in zip(sine(440, 2.0), sine(1000, 2.0), strict=True)]
    report = audio.analyse(write_wav(tmp_path / "mix.wav", mixed), (440, 1000, 1800))
    assert report.tone_share[440] == pytest.approx(0.5, abs=0.05)
    assert report.tone_share[1000] == pytest.approx(0.5, abs=0.05)
    assert report.tone_share[1800] < 0.001


def test_gaps_and_phase_jumps_do_not_hide_a_tone(tmp_path: Path) -> None:
    """Received RTP has holes and restarts; a whole-file Goertzel would let the pieces cancel out."""
    samples: list[int] = []
    for piece in range(12):
        samples += sine(440, 0.23, phase=piece * 2.1)
        samples += [0] * (RATE // 20)
    report = audio.analyse(write_wav(tmp_path / "gappy.wav", samples), (440, 1000))
    assert report.tone_share[440] > 0.9
    assert report.tone_share[1000] < 0.01


def test_silence_has_no_energy_anywhere(tmp_path: Path) -> None:
    path = audio.silence(tmp_path / "s.wav", 2.5)
    assert_telephony_format(path)
    report = audio.analyse(path, (440,))
    assert report.duration_s == pytest.approx(2.5)
    assert report.rms == 0.0
    assert report.active_s == 0.0
    assert report.tone_share == {440: 0.0}


def test_mandarin_speech_is_telephony_audio(tmp_path: Path) -> None:
    path = audio.speech(tmp_path / "hello.wav", "您好，这里是12345市民热线", pad_to=8.0)
    assert_telephony_format(path)
    report = audio.analyse(path, (440,))
    assert report.duration_s == pytest.approx(8.0, abs=0.01)
    assert 1.0 < report.active_s < 8.0
    assert report.rms > 0.01


def test_to_telephony_converts_rate_and_channels(tmp_path: Path) -> None:
    src = tmp_path / "wide.wav"
    audio.run_tool(["sox", "-n", "-r", "16000", "-c", "2", "-b", "16", str(src),
                    "synth", "1", "sine", "1000"])
    out = audio.to_telephony(src, tmp_path / "narrow.wav", pad_to=2.0)
    assert_telephony_format(out)
    report = audio.analyse(out, (1000,))
    assert report.duration_s == pytest.approx(2.0, abs=0.01)
    assert report.tone_share[1000] > 0.99


def test_missing_tool_and_bad_input_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(audio.AudioToolError, match="not installed"):
        audio.run_tool(["no-such-audio-tool-xyz"])
    with pytest.raises(audio.AudioToolError, match="failed"):
        audio.to_telephony(tmp_path / "absent.wav", tmp_path / "out.wav")


def test_a_call_length_recording_is_analysed_whole(tmp_path: Path) -> None:
    path = audio.tone(tmp_path / "long.wav", 440, 10.0)
    report = audio.analyse(path, (440, 1000, 1800))
    assert report.heard(440, 0.9)
    assert not report.heard(1000, 0.05) and not report.heard(1800, 0.05)
