"""Real test audio: espeak-ng Mandarin, sox noise, and telephony tones synthesised exactly.

Used by the audio, transcription and triage tests and by bench/triage_night.py. Everything is
8 kHz 16-bit mono, the format Asterisk records voicemail in.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import tempfile
import wave
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

RATE = 8000
TONE_AMPLITUDE = 6000  # about -15 dBFS per tone
DTMF_PAIRS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}
# Mandarin sentences in pinyin with tone numbers, read by espeak-ng's cmn-latn-pinyin voice.
PINYIN_SENTENCES = (
    "ni3 hao3, wo3 jia1 de ran2 qi4 guan3 dao4 lou4 qi4 le, "
    "qing3 jin3 kuai4 pai4 ren2 lai2 kan4 yi2 xia4.",
    "wo3 shi4 dong1 cheng2 qu1 de ju1 min2, xiao3 qu1 li3 ting2 dian4 le, "
    "yi2 zheng3 tian1 dou1 mei2 you3 dian4.",
    "lou2 shang4 de lin2 ju1 mei3 tian1 wan3 shang4 hen3 chao3, "
    "wo3 xiang3 fan3 ying4 yi2 xia4 zao4 yin1 wen4 ti2.",
    "qing3 da3 wo3 de dian4 hua4, yao1 san1 ba1 yao1 er4 san1 si4 wu3 liu4 qi1 ba1, xie4 xie4.",
    "lu4 kou3 de hong2 lv4 deng1 huai4 le, jiao1 tong1 hen3 hun4 luan4, "
    "xi1 wang4 you3 guan1 bu4 men2 chu3 li3.",
)
VOICES = ("cmn-latn-pinyin", "cmn-latn-pinyin+f3", "cmn-latn-pinyin+m3", "cmn-latn-pinyin+f2")


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is not installed: test audio is made with it (apt-get install {tool})")
    return path


def write_wav(path: Path, samples: Iterable[int], rate: int = RATE, channels: int = 1) -> Path:
    data = array("h", (max(-32768, min(32767, int(s))) for s in samples))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())
    return path


def read_samples(path: Path) -> array:
    with wave.open(str(path), "rb") as reader:
        assert reader.getframerate() == RATE and reader.getnchannels() == 1 and reader.getsampwidth() == 2
        return array("h", reader.readframes(reader.getnframes()))


def silence(seconds: float) -> list[int]:
    return [0] * int(seconds * RATE)


def tones(freqs: Sequence[float], seconds: float, amplitude: int = TONE_AMPLITUDE) -> list[int]:
    n = int(seconds * RATE)
    return [round(sum(amplitude * math.sin(2 * math.pi * f * i / RATE) for f in freqs)) for i in range(n)]


def dtmf(digits: str, on_s: float = 0.12, off_s: float = 0.1) -> list[int]:
    out: list[int] = []
    for digit in digits:
        out += tones(DTMF_PAIRS[digit], on_s) + silence(off_s)
    return out


def cadence(freqs: Sequence[float], on_s: float, off_s: float, seconds: float) -> list[int]:
    """A tone switched on and off, e.g. the Chinese busy tone: 450 Hz, 0.35 s on, 0.35 s off."""
    out: list[int] = []
    burst = tones(freqs, on_s)
    gap = silence(off_s)
    while len(out) < seconds * RATE:
        out += burst + gap
    return out[: int(seconds * RATE)]


def fax_cng(seconds: float) -> list[int]:
    """A calling fax: 1100 Hz, 0.5 s on, 3 s off."""
    return cadence([1100], 0.5, 3.0, seconds)


def line_noise(seconds: float, level: int = 30, seed: int = 1) -> list[int]:
    """Faint random noise, like a quiet telephone line (about -60 dBFS)."""
    rng = random.Random(seed)
    return [rng.randint(-level, level) for _ in range(int(seconds * RATE))]


def sox_noise(path: Path, seconds: float, colour: str = "whitenoise", volume: float = 0.3) -> Path:
    """White (or pink/brown) noise synthesised by sox."""
    subprocess.run([_require("sox"), "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(path),
                    "synth", f"{seconds}", colour, "vol", f"{volume}"], check=True, capture_output=True)
    return path


def espeak(path: Path, pinyin: str, voice: str = VOICES[0], speed: int = 150) -> Path:
    """Mandarin speech from espeak-ng, converted by sox to 8 kHz 16-bit mono."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run([_require("espeak-ng"), "-v", voice, "-s", str(speed), "-w", str(raw), pinyin],
                       check=True, capture_output=True)
        subprocess.run([_require("sox"), str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(path),
                        "gain", "-n", "-6"], check=True, capture_output=True)
    return path


def speech_samples(workdir: Path, sentences: Sequence[str] = PINYIN_SENTENCES[:2],
                   voices: Sequence[str] = VOICES[:1], pause_s: float = 0.6) -> list[int]:
    """Several sentences, each in the next voice, with pauses between them."""
    out: list[int] = []
    for i, sentence in enumerate(sentences):
        part = espeak(workdir / f"_speech_{i}.wav", sentence, voices[i % len(voices)])
        out += list(read_samples(part)) + silence(pause_s)
    return out


def mix(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Sum two signals sample by sample; the result is as long as the longer one."""
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)]


def scale(samples: Sequence[int], factor: float) -> list[int]:
    return [round(s * factor) for s in samples]


def g711(samples: Sequence[int], workdir: Path, law: str = "u-law") -> list[int]:
    """The samples after a G.711 round trip (sox encodes μ-law or A-law and decodes it again)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        src, coded, back = Path(tmp) / "in.wav", Path(tmp) / "coded.wav", Path(tmp) / "out.wav"
        write_wav(src, samples)
        subprocess.run([_require("sox"), str(src), "-e", law, "-b", "8", str(coded)],
                       check=True, capture_output=True)
        subprocess.run([_require("sox"), str(coded), "-e", "signed-integer", "-b", "16", str(back)],
                       check=True, capture_output=True)
        return list(read_samples(back))


def dtmf_twisted(digits: str, on_s: float, off_s: float, low_amp: int = 3000, high_amp: int = 4500,
                 ) -> list[int]:
    """Key presses as an auto-dialler or an IVR sends them: short, and the two tones unequal."""
    out: list[int] = []
    for digit in digits:
        low, high = DTMF_PAIRS[digit]
        n = int(on_s * RATE)
        out += [round(low_amp * math.sin(2 * math.pi * low * i / RATE)
                      + high_amp * math.sin(2 * math.pi * high * i / RATE)) for i in range(n)]
        out += silence(off_s)
    return out


def sit(repeats: int = 2, gap_s: float = 1.0) -> list[int]:
    """Special information tone: 913.8, 1370.6 and 1776.7 Hz rising, 274/274/380 ms, then a pause."""
    out: list[int] = []
    for _ in range(repeats):
        out += tones([913.8], 0.274) + tones([1370.6], 0.274) + tones([1776.7], 0.380) + silence(gap_s)
    return out


def ringback_cn(seconds: float) -> list[int]:
    """Chinese ringback: 450 Hz, 1 s on, 4 s off."""
    return cadence([450], 1.0, 4.0, seconds)


def ringback_na(seconds: float) -> list[int]:
    """North American ringback: 440 + 480 Hz, 2 s on, 4 s off."""
    return cadence([440, 480], 2.0, 4.0, seconds)


def modulated_noise(path: Path, seconds: float, rate_hz: float = 0.3, depth: float = 0.8,
                    colour: str = "pinknoise", volume: float = 0.3) -> list[int]:
    """Street noise: sox noise whose level swells and fades slowly (passing traffic)."""
    noise = read_samples(sox_noise(path, seconds, colour, volume))
    return [round(s * (1.0 - depth * 0.5 * (1 + math.sin(2 * math.pi * rate_hz * i / RATE))))
            for i, s in enumerate(noise)]
