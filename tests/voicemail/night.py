"""A labelled night of voicemail, generated at test time: every category triage must tell apart.

Speech is espeak-ng Mandarin in four voices, noise is sox, tones are synthesised exactly; much of
it goes through a G.711 round trip (mu-law or A-law, as a trunk would deliver it). Each message
carries the truth: `invalid` (nothing a person needs to hear), `keep` (a request: must never be
made invalid) or `duplicate` (the shorter or later copy of another message by the same caller,
named in `copy_of`). Used by tests/voicemail/test_triage_night.py and the demo's night.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from tests.voicemail import audio_fixtures as fx

INVALID = "invalid"
KEEP = "keep"
DUPLICATE = "duplicate"
LINE_LEVEL = 20  # faint line noise under every message (-64 dBFS)


@dataclass(frozen=True)
class NightMessage:
    name: str
    truth: str
    caller: str | None  # None: withheld
    samples: list[int]
    copy_of: str | None = None  # for duplicates: the message it repeats


class _Speech:
    """Sentences by voice, synthesised once."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._made: dict[tuple[int, int], list[int]] = {}

    def __call__(self, sentences: list[int], voice: int, pause_s: float = 0.6,
                 lead_s: float = 0.5) -> list[int]:
        out = fx.silence(lead_s)
        for i in sentences:
            if (i, voice) not in self._made:
                wav = fx.espeak(self.workdir / f"_night_{i}_{voice}.wav", fx.PINYIN_SENTENCES[i],
                                fx.VOICES[voice])
                self._made[(i, voice)] = list(fx.read_samples(wav))
            out += self._made[(i, voice)] + fx.silence(pause_s)
        return out + fx.silence(0.8)


def _noise(workdir: Path, seconds: float, colour: str, volume: float) -> list[int]:
    wav = fx.sox_noise(workdir / f"_night_{colour}_{volume}.wav", seconds, colour, volume)
    return list(fx.read_samples(wav))


def _invalid(w: Path, law: Callable[[list[int], str], list[int]]) -> list[NightMessage]:
    """Everything a night holds that no person needs to hear."""
    hiss = _noise(w, 10.0, "whitenoise", 0.02)
    return [
        NightMessage("silence", INVALID, "13800000001", fx.silence(8.0)),
        NightMessage("hangup_at_beep", INVALID, "13800000002", fx.silence(1.6)),
        NightMessage("beep_then_hiss", INVALID, "13800000003",
                     law(fx.tones([1000], 0.5) + hiss, "u-law")),
        NightMessage("dtmf_ulaw", INVALID, "13800000004",
                     law(fx.silence(1.0) + fx.dtmf("13812345678#") + fx.silence(2.0), "u-law")),
        NightMessage("dtmf_fast_alaw", INVALID, None,
                     law(fx.silence(0.5) + fx.dtmf_twisted("13987654321", 0.04, 0.04) + fx.silence(3.0),
                         "a-law")),
        NightMessage("ivr_00#9_alaw", INVALID, "13800000006",
                     law(fx.silence(1.0) + fx.dtmf_twisted("00#9", 0.08, 0.3, 1500, 2500) + fx.silence(2.0),
                         "a-law")),
        NightMessage("busy_cn_ulaw", INVALID, "13800000007",
                     law(fx.cadence([450], 0.35, 0.35, 8.0), "u-law")),
        NightMessage("busy_na_alaw", INVALID, "13800000008",
                     law(fx.cadence([480, 620], 0.5, 0.5, 8.0), "a-law")),
        NightMessage("ringback_cn", INVALID, None, law(fx.ringback_cn(12.0), "a-law")),
        NightMessage("ringback_na", INVALID, "13800000010", law(fx.ringback_na(12.0), "u-law")),
        NightMessage("sit", INVALID, "13800000011", law(fx.sit(3), "u-law")),
        NightMessage("fax_cng_alaw", INVALID, "13800000012", law(fx.fax_cng(12.0), "a-law")),
        NightMessage("fax_ced", INVALID, "13800000013",
                     fx.silence(0.5) + fx.tones([2100], 3.5) + fx.silence(1.0)),
        NightMessage("white_noise", INVALID, "13800000014", _noise(w, 10.0, "whitenoise", 0.2)),
        NightMessage("pink_noise", INVALID, None, _noise(w, 10.0, "pinknoise", 0.3)),
        NightMessage("brown_noise_ulaw", INVALID, "13800000016",
                     law(_noise(w, 10.0, "brownnoise", 0.4), "u-law")),
        NightMessage("street_slow", INVALID, "13800000017", fx.modulated_noise(w / "_street1.wav", 20.0)),
        NightMessage("street_swelling", INVALID, "13800000018",
                     law(fx.modulated_noise(w / "_street2.wav", 20.0, 0.5, 0.9, "brownnoise"), "a-law")),
    ]


def generate(workdir: Path) -> list[NightMessage]:
    """The night, in arrival order (duplicates come after what they repeat)."""
    w = workdir
    say = _Speech(w)

    def law(samples: list[int], which: str) -> list[int]:
        return fx.g711(samples, w, which)

    noisy = fx.mix(say([0], 3), _noise(w, 12.0, "whitenoise", 0.08))
    off_hook = say([2], 1) + _noise(w, 15.0, "whitenoise", 0.03)
    night = _invalid(w, law)[:9]
    night += [
        NightMessage("a_water_and_power", KEEP, "13911110001", say([0, 1], 0)),
        NightMessage("b_noise_complaint", KEEP, "13911110002", law(say([2], 1), "u-law")),
        NightMessage("withheld_spoken_number", KEEP, None, law(say([3], 2), "a-law")),
        NightMessage("withheld_traffic_light", KEEP, None, say([4], 3)),
        NightMessage("c_speech_then_busy", KEEP, "13911110003",
                     say([1], 2) + fx.cadence([450], 0.35, 0.35, 6.0)),
        NightMessage("d_speech_in_noise", KEEP, "13911110004", noisy),
        NightMessage("e_speech_then_keys", KEEP, "13911110005", say([4], 0) + fx.dtmf("0#")),
        NightMessage("f_then_phone_off_hook", KEEP, "13911110006", off_hook),
    ]
    night += _invalid(w, law)[9:]
    night += [
        NightMessage("a_other_topic", KEEP, "13911110001", say([4], 0, pause_s=0.4)),
        NightMessage("withheld_other_voice_same_words", KEEP, None, say([4], 1)),
        NightMessage("a_short_repeat", DUPLICATE, "13911110001", law(say([0], 0, lead_s=1.2), "a-law"),
                     copy_of="a_water_and_power"),
        NightMessage("withheld_repeat", DUPLICATE, None,
                     law(fx.mix(say([3], 2, lead_s=0.9), _noise(w, 10.0, "pinknoise", 0.01)), "u-law"),
                     copy_of="withheld_spoken_number"),
        NightMessage("b_fuller_repeat", KEEP, "13911110002", say([2, 3], 1, pause_s=0.8)),
        NightMessage("e_same_again", DUPLICATE, "13911110005", law(say([4], 0, lead_s=0.3), "u-law"),
                     copy_of="e_speech_then_keys"),
        NightMessage("d_repeat_in_noise", DUPLICATE, "13911110004",
                     fx.mix(say([0], 3, lead_s=1.0), _noise(w, 12.0, "pinknoise", 0.03)),
                     copy_of="d_speech_in_noise"),
    ]
    longest = max(len(m.samples) for m in night)
    floor = fx.line_noise(longest / fx.RATE + 1.0, level=LINE_LEVEL, seed=12)
    return [replace(m, samples=fx.mix(m.samples, floor[: len(m.samples)])) for m in night]


def superseded_by_fuller() -> dict[str, str]:
    """Messages that become duplicates when a fuller repeat arrives later: name -> the fuller one."""
    return {"b_noise_complaint": "b_fuller_repeat"}
