"""A daytime caller rings a seat within 8 s of being answered (issue 13: it was about 18 s)."""

from __future__ import annotations

import wave
from pathlib import Path

from hotline.config import HotlineConfig
from ivr.dialplan import daytime_entry_prompts, daytime_entry_seconds, render_dialplan
from ivr.names import sound
from ivr.prompts import render_prompts

ANSWER_TO_RING_LIMIT_S = 8.0


def _seconds(content: bytes, tmp_path: Path, name: str) -> float:
    path = tmp_path / f"{name}.wav"
    path.write_bytes(content)
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def test_shipped_prompts_reach_the_queue_within_eight_seconds(hall: HotlineConfig,
                                                               tmp_path: Path) -> None:
    """Measured on the rendered audio, not with a stopwatch: the lengths are the dialplan's."""
    lengths = {Path(f.path).stem: _seconds(f.content, tmp_path, Path(f.path).stem)
               for f in render_prompts(hall, tmp_path / "cache")}
    assert hall.recording.enabled, "the shipped hall records calls: its notice counts too"
    assert daytime_entry_seconds(hall, lengths) < ANSWER_TO_RING_LIMIT_S, lengths


def test_the_operator_number_is_taken_during_the_greeting(hall: HotlineConfig) -> None:
    """Greeting and 工号 prompt are one Read: digits keyed over the greeting count."""
    dialplan = render_dialplan(hall).decode("utf-8")
    prompts = "&".join(sound(name) for name in daytime_entry_prompts(hall))
    assert f"Read(HOTLINE_KEYED,{prompts}," in dialplan
    entry = dialplan.split("[hotline-entry]", 1)[1].split("\n[", 1)[0]
    greeting_played = entry.index(f"Playback({sound(daytime_entry_prompts(hall)[0])})")
    assert entry.index("GotoIf(${HOTLINE_OPEN}?") < greeting_played, \
        "open calls must leave before the after-hours Playback of the greeting"


def test_prompt_rate_changes_the_audio_and_its_cache_key(hall: HotlineConfig,
                                                        tmp_path: Path) -> None:
    from ivr.prompts import PromptSynth
    synth = PromptSynth(tmp_path / "cache")
    slow = synth.speech(hall.prompts.greeting, hall.prompts.voice, 150)
    fast = synth.speech(hall.prompts.greeting, hall.prompts.voice, 300)
    assert len(fast) < len(slow), "a faster rate must give shorter audio, not a cached copy"
