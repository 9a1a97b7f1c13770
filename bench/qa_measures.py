"""Accuracy and speed of the automatic quality measures (quality/) on synthetic calls with known truth.

Each call alternates operator and citizen turns of Mandarin read by espeak-ng's cmn-latn-pinyin
voice at a known rate (-s 110…290); the truth is known by construction: syllables from the pinyin
text, talk-over where a turn was placed to start before the other party's ended, silences where a
turn was placed seconds after the last one (see tests/quality/synth.py). Against a baseline in the
same run: one bare energy pass over the same 10 ms frames of both tracks (the least any analysis
must do).

Run by hand:

    .venv/bin/python bench/qa_measures.py [--calls 12] [--seed 15]

The last line is exactly:

    calls=N rate_mape=M talk_over_f1=F silence_mae_s=E x_realtime=X baseline_ratio=R

M: mean absolute percentage error of the operator's 字/分钟 per call; F: talk-over events found
(overlapping a true one) against those placed; E: mean absolute error of each placed silence's
length (a missed one counts whole); X: audio seconds of the call per CPU second of the analysis of
both tracks; R: that CPU time over the baseline's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from quality.measures import Limits, measure_call  # noqa: E402
from quality.track import analyze_track, frame_energies  # noqa: E402
from tests.quality.synth import Call, Utterance, build_call, place  # noqa: E402
from tests.voicemail import audio_fixtures as fx  # noqa: E402

TURNS: Final = 8
LONG_SILENCE_S: Final = 2.5  # placed silences are 3-8 s; ordinary turn gaps at most 1.2 s
LIMITS: Final = Limits(long_silence_s=LONG_SILENCE_S)


def script(workdir: Path, rng: random.Random) -> list[Utterance]:
    """Alternating turns; each gap is ordinary, a long silence, or a talk-over (negative gap)."""
    turns, cursor = [], 0.5
    for k in range(TURNS):
        party = "operator" if k % 2 == 0 else "citizen"
        u = Utterance(party, 0.0, rng.choice(fx.PINYIN_SENTENCES), rng.randrange(110, 291, 10),
                      rng.choice(fx.VOICES), rng.uniform(0.5, 1.5))
        shape = place(workdir, u)  # where its sound is when it starts at 0
        kind = rng.choice(("gap", "gap", "silence", "over")) if k else "gap"
        gap = {"gap": rng.uniform(0.4, 1.2), "silence": rng.uniform(3.0, 8.0),
               "over": -rng.uniform(0.8, 2.0)}[kind]
        start = max(0.0, cursor + gap - shape.sound[0])
        turns.append(Utterance(party, round(start, 3), u.pinyin, u.speed, u.voice, u.gain))
        cursor = start + shape.sound[1]
    return turns


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def score(call: Call) -> tuple[float, dict[str, float], float]:
    """(CPU seconds, figures of this call, audio seconds)."""
    started = time.process_time()
    m = measure_call(analyze_track(call.operator), analyze_track(call.citizen), limits=LIMITS)
    cpu = time.process_time() - started
    found = [(x.start_s, x.end_s) for x in m.moments if x.kind == "talk_over"]
    truth = call.talk_overs
    hits = sum(1 for t in truth if any(_overlap(t, f) > 0 for f in found))
    false = sum(1 for f in found if not any(_overlap(t, f) > 0 for t in truth))
    gaps = [(x.start_s, x.end_s) for x in m.moments if x.kind == "silence"]
    errors = []
    for t in (s for s in call.silences if s[1] - s[0] >= LONG_SILENCE_S + 0.4):
        best = max(gaps, key=lambda g, t=t: _overlap(g, t), default=None)
        matched = best is not None and _overlap(best, t) > 0
        errors.append(abs((best[1] - best[0]) - (t[1] - t[0])) if matched else t[1] - t[0])
    figures = {"rate": m.operator_syllables_per_min, "truth_rate": call.operator_rate,
               "tp": hits, "fn": len(truth) - hits, "fp": false, "sil_err": sum(errors), "sil_n": len(errors)}
    return cpu, figures, m.duration_s


def baseline_cpu(call: Call) -> float:
    started = time.process_time()
    frame_energies(call.operator)
    frame_energies(call.citizen)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows, cpu, base, audio = [], 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as work:
        for n in range(args.calls):
            call = build_call(Path(work), script(Path(work), rng))
            spent, figures, seconds = score(call)
            cpu, base, audio = cpu + spent, base + baseline_cpu(call), audio + seconds
            rows.append(figures)
            print(f"call {n + 1:2d}: {seconds:5.1f} s  rate {figures['rate']:5.0f}"
                  f" / true {figures['truth_rate']:5.0f}"
                  f"  talk-over tp={figures['tp']} fn={figures['fn']} fp={figures['fp']}"
                  f"  silences {figures['sil_n']} abs err {figures['sil_err']:.2f} s")
    mape = sum(abs(r["rate"] - r["truth_rate"]) / r["truth_rate"] for r in rows) / len(rows)
    tp, fn, fp = (sum(r[k] for r in rows) for k in ("tp", "fn", "fp"))
    f1 = 2 * tp / (2 * tp + fn + fp) if tp + fn + fp else 1.0
    mae = sum(r["sil_err"] for r in rows) / max(1, sum(r["sil_n"] for r in rows))
    print(f"baseline energy pass: {base:.3f} s CPU for {audio:.0f} s of calls (two tracks each)")
    print(f"calls={len(rows)} rate_mape={mape:.3f} talk_over_f1={f1:.3f} silence_mae_s={mae:.2f} "
          f"x_realtime={audio / cpu:.0f} baseline_ratio={cpu / base:.1f}")


if __name__ == "__main__":
    main()
