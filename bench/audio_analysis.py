"""How fast the voicemail audio analysis runs on a minute of speech and a minute of DTMF tones,
against a baseline in the same run: one bare energy pass over the same 30 ms frames (the least
any analysis must do).

Run by hand:

    .venv/bin/python bench/audio_analysis.py [--repeat 5]

The last line is exactly:

    audio_s=A speech_cpu_s=S tones_cpu_s=T x_realtime=X baseline_ratio=R

where S and T are the best CPU time of --repeat runs on each minute, X is audio seconds per CPU
second (the slower of the two), and R is that time over the baseline's.
"""

from __future__ import annotations

import argparse
import operator
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.voicemail import audio_fixtures as fx  # noqa: E402
from voicemail.audio_analysis import FRAME, analyze  # noqa: E402

MINUTE_S: Final = 60


def best_cpu_s(work: object, samples: array, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        work(samples)  # type: ignore[operator]
        times.append(time.process_time() - started)
    return min(times)


def energy_pass(samples: array) -> list[int]:
    """The baseline: the energy of every frame, nothing else."""
    return [sum(map(operator.mul, samples[i:i + FRAME], samples[i:i + FRAME]))
            for i in range(0, len(samples) - FRAME + 1, FRAME)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        speech = fx.speech_samples(Path(work), fx.PINYIN_SENTENCES[:2], fx.VOICES[:2])
    n = MINUTE_S * fx.RATE
    minute = array("h", (speech * (n // len(speech) + 1))[:n])
    digits = fx.dtmf("1234567890")
    tones = array("h", (digits * (n // len(digits) + 1))[:n])

    speech_s = best_cpu_s(analyze, minute, args.repeat)
    tones_s = best_cpu_s(analyze, tones, args.repeat)
    baseline_s = best_cpu_s(energy_pass, minute, args.repeat)
    slower = max(speech_s, tones_s)
    print(f"baseline energy pass: {baseline_s:.3f} s CPU per minute of audio")
    print(f"audio_s={MINUTE_S} speech_cpu_s={speech_s:.3f} tones_cpu_s={tones_s:.3f} "
          f"x_realtime={MINUTE_S / slower:.0f} baseline_ratio={slower / baseline_s:.1f}")


if __name__ == "__main__":
    main()
