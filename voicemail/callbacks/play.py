"""Listen to a message on the local sound card (`hotline voicemail play ID`) via sounddevice.

sounddevice is imported only here and only when asked: the service never needs a sound card,
and a machine without one (or without PortAudio) gets a sentence saying so, not a traceback.
"""

from __future__ import annotations

import importlib
import wave
from pathlib import Path
from types import ModuleType

SAMPLE_DTYPE = {1: "int8", 2: "int16", 4: "int32"}  # WAV sample width in bytes -> PortAudio type
MISSING_LIBRARY = ("无法播放：没有安装 Python 包 sounddevice"
                   "（pip install sounddevice；它还需要 Debian 的 libportaudio2）")
MISSING_PORTAUDIO = "无法播放：缺少 PortAudio 库（apt-get install libportaudio2）"
NO_DEVICE = ("无法播放：本机没有声音输出设备；请改在浏览器中收听"
             "（GET /api/voicemails/{id}/audio）")


class SoundUnavailable(RuntimeError):
    """Playing is impossible here; the message says why and what to do."""


def load_sounddevice() -> ModuleType:
    try:
        return importlib.import_module("sounddevice")
    except ImportError:
        raise SoundUnavailable(MISSING_LIBRARY) from None
    except OSError:  # sounddevice found, PortAudio's shared library not
        raise SoundUnavailable(MISSING_PORTAUDIO) from None


def output_device(sd: ModuleType, voicemail_id: int) -> None:
    """Refuse early when PortAudio lists no device that can play."""
    try:
        devices = list(sd.query_devices())
    except Exception:  # PortAudio raises its own error class when it cannot enumerate
        devices = []
    if not any(int(d.get("max_output_channels", 0)) > 0 for d in devices):
        raise SoundUnavailable(NO_DEVICE.format(id=voicemail_id))


def play_wav(path: Path, voicemail_id: int, sd: ModuleType | None = None) -> float:
    """Play the file to the end on the default output; returns its length in seconds."""
    module = sd or load_sounddevice()
    output_device(module, voicemail_id)
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        frames = wav.readframes(wav.getnframes())
    try:
        with module.RawOutputStream(samplerate=rate, channels=channels,
                                    dtype=SAMPLE_DTYPE[width]) as stream:
            stream.write(frames)
    except Exception as exc:  # PortAudioError: the device vanished or refused the format
        raise SoundUnavailable(f"无法播放：声音设备拒绝播放（{exc}）") from None
    return len(frames) / (rate * channels * width)
