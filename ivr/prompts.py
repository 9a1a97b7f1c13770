"""Prompts: every announcement synthesised offline from hotline.conf into 8 kHz WAV files.

espeak-ng speaks the text with a cmn-latn-pinyin voice (plain `cmn` reads Chinese as
spelled-out pinyin), sox converts it without dither (dither is random: the bytes would change
on every render), and the WAV header is written here so the output is byte-for-byte stable.
Results are cached by a hash of the text, voice, tool versions and pipeline version.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import wave
from collections.abc import Callable, Mapping
from pathlib import Path

from hotline.config import HotlineConfig
from ivr.errors import RenderError
from ivr.names import (
    PROMPT_AFTER_HOURS,
    PROMPT_BEEP,
    PROMPT_GREETING,
    PROMPT_NAMED_OPERATOR,
    PROMPT_OVERFLOW,
    PROMPT_RECORDING_NOTICE,
    PROMPT_THREEWAY_WHISPER,
    SOUND_DIR,
    operator_prompt,
)
from ivr.output import GeneratedFile

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2  # bytes: 16-bit signed PCM, what Asterisk's format_wav reads
CHANNELS = 1
PEAK_DBFS = -3  # normalise every prompt to the same loudness
PAD_START_SECONDS = 0.05
PAD_END_SECONDS = 0.15
# espeak leaves silence around its speech; trimmed (then padded as above) so prompts played back
# to back do not keep the caller waiting in silence. Threshold: 0.5 % of full scale for 20 ms.
TRIM_SILENCE = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]
BEEP_HZ = 1000
BEEP_SECONDS = 0.4
BEEP_AMPLITUDE = 0.5
PIPELINE_VERSION = "3"  # bump when the conversion below changes, to invalidate caches
TOOL_TIMEOUT_SECONDS = 60
PACKAGES = {"espeak-ng": "espeak-ng", "sox": "sox"}
DIGIT_NAMES = "零一二三四五六七八九"
DIGIT_NAMES_IN_NUMBERS = "零幺二三四五六七八九"  # 1 is yāo when numbers are read digit by digit


def cache_dir() -> Path:
    base = os.environ.get("HOTLINE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "hotline"
    return root / "prompts"


def speakable(text: str) -> str:
    """Numbers read digit by digit, as hotlines and 工号 are spoken: 12345 -> 幺二三四五."""
    def spell(match: re.Match[str]) -> str:
        digits = match.group(0)
        names = DIGIT_NAMES if len(digits) == 1 else DIGIT_NAMES_IN_NUMBERS
        return "".join(names[int(d)] for d in digits)
    return re.sub(r"[0-9]+", spell, text)


def prompt_texts(config: HotlineConfig) -> dict[str, str]:
    """Prompt name (under sounds/hotline) -> text to speak."""
    prompts = config.prompts
    texts = {
        PROMPT_GREETING: prompts.greeting,
        PROMPT_AFTER_HOURS: prompts.after_hours,
        PROMPT_OVERFLOW: prompts.overflow,
        PROMPT_NAMED_OPERATOR: prompts.named_operator,
        PROMPT_THREEWAY_WHISPER: prompts.threeway_whisper,
    }
    if config.recording.enabled:
        texts[PROMPT_RECORDING_NOTICE] = prompts.recording_notice
    for seat in config.seats:
        texts[operator_prompt(seat.seat_id)] = prompts.operator_id_for(seat.seat_id)
    return texts


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RenderError(f"合成提示音需要 {name}，但它没有安装；请安装 Debian 软件包："
                          f"apt-get install {PACKAGES[name]}")
    return path


def _run(command: list[str], data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(command, input=data, capture_output=True, check=False,
                              timeout=TOOL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{command[0]} 在 {TOOL_TIMEOUT_SECONDS} 秒内没有完成") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"{Path(command[0]).name} 运行失败（退出码 {done.returncode}）：{message}")
    return done.stdout


def _wav(pcm: bytes) -> bytes:
    """A canonical 44-byte-header WAV around 16-bit mono PCM."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


class PromptSynth:
    """Synthesises prompts through a content-addressed cache."""

    def __init__(self, cache: Path | None = None) -> None:
        self.espeak = _tool("espeak-ng")
        self.sox = _tool("sox")
        self.cache = cache if cache is not None else cache_dir()
        self._versions = (_run([self.espeak, "--version"]).decode().strip()
                          + "|" + _run([self.sox, "--version"]).decode().strip())

    def _key(self, *parts: str) -> str:
        text = "\0".join((PIPELINE_VERSION, self._versions, *parts))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _cached(self, key: str, make: Callable[[], bytes]) -> bytes:
        path = self.cache / f"{key}.wav"
        if path.exists():
            return path.read_bytes()
        content = make()
        self.cache.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(content)
        temporary.replace(path)
        return content

    def _to_pcm(self, source: bytes, source_type: str, effects: list[str]) -> bytes:
        return _run([self.sox, "-D", "-t", source_type, "-", "-t", "raw", "-r", str(SAMPLE_RATE),
                     "-c", str(CHANNELS), "-b", str(SAMPLE_WIDTH * 8), "-e", "signed-integer",
                     "-", *effects], source)

    def speech(self, text: str, voice: str, rate: int) -> bytes:
        """`text` spoken by `voice` at `rate` espeak words (about syllables) a minute."""
        spoken = speakable(text)

        def make() -> bytes:
            try:
                raw = _run([self.espeak, "-v", voice, "-s", str(rate), "--stdout",
                            spoken])
            except RenderError as exc:
                raise RenderError(f"[prompts] voice = “{voice}”无法使用：{exc}") from None
            if len(raw) <= len(_wav(b"")):
                raise RenderError(f"espeak-ng 用语音“{voice}”合成“{text}”时没有产生声音")
            pcm = self._to_pcm(raw, "wav", [*TRIM_SILENCE, "gain", "-n", str(PEAK_DBFS),
                                            "pad", str(PAD_START_SECONDS), str(PAD_END_SECONDS)])
            return _wav(pcm)
        return self._cached(self._key("speech", voice, str(rate), spoken), make)

    def beep(self) -> bytes:
        def make() -> bytes:
            pcm = _run([self.sox, "-D", "-n", "-t", "raw", "-r", str(SAMPLE_RATE), "-c",
                        str(CHANNELS), "-b", str(SAMPLE_WIDTH * 8), "-e", "signed-integer", "-",
                        "synth", str(BEEP_SECONDS), "sine", str(BEEP_HZ),
                        "vol", str(BEEP_AMPLITUDE), "fade", "0.01", str(BEEP_SECONDS), "0.01"])
            return _wav(pcm)
        return self._cached(self._key("beep", str(BEEP_HZ), str(BEEP_SECONDS)), make)


def render_prompts(config: HotlineConfig, cache: Path | None = None,
                   ) -> list[GeneratedFile]:
    """Every prompt the dialplan plays, as files under sounds/hotline/."""
    synth = PromptSynth(cache)
    voice, rate = config.prompts.voice, config.prompts.rate
    texts: Mapping[str, str] = prompt_texts(config)
    files = [GeneratedFile(f"sounds/{SOUND_DIR}/{name}.wav", synth.speech(text, voice, rate))
             for name, text in sorted(texts.items())]
    files.append(GeneratedFile(f"sounds/{SOUND_DIR}/{PROMPT_BEEP}.wav", synth.beep()))
    return files
