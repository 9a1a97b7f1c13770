"""AMI receive-path throughput: framing, parsing and the hall's state machine, on one core,
against panoramisk 1.4's parser on the same bytes in the same run.

Run by hand (single core, pinned when the OS allows it):

    .venv/bin/python bench/ami_throughput.py [--events 100000] [--chunk 4096] [--repeat 5]
                                             [--parse-only | --state-machine MODULE:CALLABLE]

The transcripts recorded from the sandbox Asterisk in tests/ami_captures/ are looped, with
fresh Uniqueid/Linkedid/ActionID values per loop, into one byte stream that is fed in
``--chunk``-byte reads through (a) telephony.ami.AmiFramer, building a Message for every
frame, and (b) panoramisk's AMIProtocol.data_received (its decode, framing,
Message.from_line and handle_message, with a factory whose dispatch only counts). Both
sides call one counting step per event.

By default (a) then folds every event into the real state machine, as HallMonitor does
for each event: a clock read in the hall's timezone, HallPicture.apply (call model, then seat
board) and HallStats.apply,
with hotline.conf's 50-seat directory (the recordings use its seats 01-03, wired the project's
way: Local/NN@hotline-seat members, PJSIP/10NN phones). The same machine is
also fed from panoramisk's messages, so the whole pipeline can be compared too.
``--parse-only`` leaves the state machine out; ``--state-machine MODULE:CALLABLE`` replaces
it with CALLABLE(message) (a function or a bound method of a module-level object).

events_per_s on the last line is the whole pipeline (framing + parsing + state machine,
unless --parse-only); panoramisk_ratio always compares like with like, the framing+parsing
stages only (>1: ours is faster). The last line is exactly:

    events_per_s=N panoramisk_ratio=R
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from seat_manager.directory import Seat, SeatDirectory
from telephony.ami import AmiFramer
from telephony.live_counters import DEFAULT_SERVICE_LEVEL_SECONDS, HallStats
from telephony.picture import HallPicture

DEFAULT_EVENTS: Final = 100_000
DEFAULT_CHUNK: Final = 4096
DEFAULT_REPEAT: Final = 5
TRANSCRIPT_DIR: Final = Path(__file__).resolve().parents[1] / "tests" / "ami_captures"
"""The repository's own recordings (`python -m tests.record_ami`); nothing outside the clone."""
BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
ID_SPACING: Final = 1000
"""Added to the sequence part of every Uniqueid per loop, so ids never repeat."""
CHINESE_PROBE: Final = "Event: Newchannel\r\nCallerIDName: 张三丰\r\n\r\n".encode()
HALL_SEATS: Final = 50
HALL_TIMEZONE: Final = ZoneInfo("Asia/Shanghai")
"""hotline.conf's [hall] timezone: the monitor's clock reads local time for every event."""
WRAPUP_SECONDS: Final = 10
"""hotline.conf's [queue] wrapup_seconds."""
RECORDED_SEATS: Final = frozenset({"01", "02", "03"})
"""The seats the recordings log in, call and register (as in tests/seat_manager)."""

_UNIQUE_ID: Final = re.compile(rb"^(\w*(?:Uniqueid|Linkedid)): (\d+)\.(\d+)\r$", re.MULTILINE)
_ACTION_ID: Final = re.compile(rb"^ActionID: (\S+)\r$", re.MULTILINE)
_EVENT_LINE: Final = re.compile(rb"^Event: ", re.MULTILINE)

Step = Callable[[Any], object]
"""Called once per event with the parser's message (ours or panoramisk's: both are mappings)."""
StepFactory = Callable[[], Step]
"""A fresh step per timed run, so a stateful machine starts every run from the same state."""


@dataclass(frozen=True)
class Result:
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def load_captures(folder: Path) -> list[bytes]:
    """Every capture with CRLF line ends, as Asterisk sends them."""
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise SystemExit(f"no AMI transcripts in {folder}")
    return [path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for path in files]


def refresh_ids(capture: bytes, loop: int) -> bytes:
    """The same traffic as a new batch of calls: new channel ids and ActionIDs."""

    def unique(match: re.Match[bytes]) -> bytes:
        sequence = int(match.group(3)) + loop * ID_SPACING
        return b"%s: %s.%d\r" % (match.group(1), match.group(2), sequence)

    renamed = _UNIQUE_ID.sub(unique, capture)
    return _ACTION_ID.sub(lambda match: b"ActionID: %s-%d\r" % (match.group(1), loop), renamed)


def build_stream(captures: list[bytes], min_events: int) -> tuple[bytes, int]:
    """Banner plus looped captures until at least ``min_events`` events."""
    parts = [BANNER]
    events = 0
    loop = 0
    while events < min_events:
        for capture in captures:
            parts.append(refresh_ids(capture, loop))
            events += len(_EVENT_LINE.findall(capture))
        loop += 1
    return b"".join(parts), events


def chunked(stream: bytes, size: int) -> list[bytes]:
    return [stream[start : start + size] for start in range(0, len(stream), size)]


def capture_directory(seats: int = HALL_SEATS) -> SeatDirectory:
    """A full hall wired like hotline.conf's (Local/NN@hotline-seat, 10NN): the recordings'
    events reach its seats 01-03."""
    return SeatDirectory([Seat.standard(f"{number:02d}", f"10{number:02d}")
                          for number in range(1, seats + 1)])


class HallPipeline:
    """What HallMonitor does with each event, minus its listeners: read the clock, fold the
    event into the HallPicture and into HallStats (both pure, so this is the real cost)."""

    def __init__(self, directory: SeatDirectory) -> None:
        self.picture = HallPicture(directory, WRAPUP_SECONDS)
        self.stats = HallStats(DEFAULT_SERVICE_LEVEL_SECONDS, directory.seat_id_for_member)

    def __call__(self, event: Any) -> None:
        now = datetime.now(HALL_TIMEZONE)
        self.picture.apply(event, now)
        self.stats.apply(event, now)


def hall_pipeline_factory() -> StepFactory:
    """Fresh board and counters per run over one shared directory."""
    directory = capture_directory()
    return lambda: HallPipeline(directory)


def run_ours(chunks: list[bytes], step: Step | None) -> Result:
    """(a) our framer + Message construction (+ the optional state-machine step)."""
    framer = AmiFramer()
    events = 0
    started = time.perf_counter()
    for chunk in chunks:
        for message in framer.feed(chunk):
            if message.kind == "event":
                events += 1
                if step is not None:
                    step(message)
    return Result(events, time.perf_counter() - started)


class _CountingFactory:
    """Stands in for panoramisk's Manager: dispatch counts (the cheapest listener) and hands
    the event to the optional step."""

    forgetable_actions = ("ping", "login")

    def __init__(self, step: Step | None = None) -> None:
        self.events = 0
        self.awaiting_actions: list[Any] = []
        self._step = step

    def dispatch(self, event: Any) -> None:
        self.events += 1
        if self._step is not None:
            self._step(event)

    def connection_lost(self, _exc: Any) -> None:
        """panoramisk calls this on a Shutdown event; nothing to do here."""


class _NullTransport:
    def write(self, _data: bytes) -> None:
        """Nothing is sent in this benchmark."""

    def close(self) -> None:
        """Nothing to close."""


def run_panoramisk(chunks: list[bytes], step: Step | None = None) -> Result:
    """(b) panoramisk's receive path: data_received -> from_line -> handle_message
    (+ the optional state-machine step on its messages)."""
    from panoramisk.ami_protocol import AMIProtocol

    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    factory = _CountingFactory(step)
    protocol.factory = factory
    protocol.encoding = "utf8"
    started = time.perf_counter()
    for chunk in chunks:
        protocol.data_received(chunk)
    return Result(factory.events, time.perf_counter() - started)


def best_of_interleaved(runs: int, *measures: Callable[[], Result]) -> list[Result]:
    """Fastest of ``runs`` timings of each measure, taken in turns so that load from other
    processes on a shared machine hits every side alike."""
    results: list[list[Result]] = [[] for _ in measures]
    for _ in range(runs):
        for measure, collected in zip(measures, results, strict=True):
            gc.collect()
            collected.append(measure())
    return [min(collected, key=lambda result: result.seconds) for collected in results]


def chinese_probe() -> tuple[str | None, str]:
    """What each side makes of "张三丰" arriving one byte per read."""
    framer = AmiFramer()
    one_byte_reads = [CHINESE_PROBE[index : index + 1] for index in range(len(CHINESE_PROBE))]
    ours = [message for read in one_byte_reads for message in framer.feed(read)]
    from panoramisk.ami_protocol import AMIProtocol

    seen: list[Any] = []
    factory = _CountingFactory()
    factory.dispatch = seen.append  # type: ignore[method-assign]
    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    protocol.factory = factory
    protocol.encoding = "utf8"
    for read in one_byte_reads:
        protocol.data_received(read)
    theirs = seen[0].get("CallerIDName", "") if seen else "<no event>"
    return (ours[0]["CallerIDName"] if ours else None), theirs


def load_step(spec: str) -> Step:
    """Resolve MODULE:CALLABLE (dotted attribute path allowed after the colon); the same
    callable serves every run, so it keeps whatever state it has between runs."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise SystemExit("--state-machine expects MODULE:CALLABLE")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise SystemExit(f"{spec} is not callable")
    return target


def pin_to_one_cpu() -> str:
    """Measure on one core, as the brief asks; report what we got."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help="bytes per read")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--transcripts", type=Path, default=TRANSCRIPT_DIR)
    machine = parser.add_mutually_exclusive_group()
    machine.add_argument("--parse-only", action="store_true",
                         help="framing + parsing only, no state machine")
    machine.add_argument("--state-machine", metavar="MODULE:CALLABLE", default=None,
                         help="call this per event instead of the hall's HallPicture + HallStats")
    return parser.parse_args(argv)


def step_factory(args: argparse.Namespace) -> tuple[str, StepFactory | None]:
    """The per-event step chosen on the command line, and how to name it."""
    if args.parse_only:
        return "", None
    if args.state_machine:
        step = load_step(args.state_machine)
        return args.state_machine, lambda: step
    return f"HallPicture({HALL_SEATS} seats: calls + seat board) + HallStats", hall_pipeline_factory()


def lines(args: argparse.Namespace) -> Iterator[str]:
    yield pin_to_one_cpu()
    stream, expected = build_stream(load_captures(args.transcripts), args.events)
    chunks = chunked(stream, args.chunk)
    megabytes = len(stream) / 1e6
    yield f"stream: {expected} events, {megabytes:.1f} MB in {len(chunks)} reads of {args.chunk} B"

    label, make_step = step_factory(args)
    measures: list[Callable[[], Result]] = [
        lambda: run_ours(chunks, None),
        lambda: run_panoramisk(chunks),
    ]
    if make_step is not None:
        measures += [
            lambda: run_ours(chunks, make_step()),
            lambda: run_panoramisk(chunks, make_step()),
        ]
    results = best_of_interleaved(args.repeat, *measures)
    for result in results:
        if result.events != expected:
            raise SystemExit(f"a run saw {result.events} events, expected {expected}")
    ours, theirs = results[:2]
    yield f"ours (framing + Message):   {ours.per_second:>9,.0f} events/s  {ours.seconds:.3f} s"
    yield f"panoramisk (data_received): {theirs.per_second:>9,.0f} events/s  {theirs.seconds:.3f} s"
    pipeline = ours
    if make_step is not None:
        pipeline, their_pipeline = results[2:]
        yield f"ours + {label}: {pipeline.per_second:>9,.0f} events/s  {pipeline.seconds:.3f} s"
        yield (
            f"panoramisk + {label}: {their_pipeline.per_second:>9,.0f} events/s  "
            f"{their_pipeline.seconds:.3f} s  (pipeline ratio "
            f"{pipeline.per_second / their_pipeline.per_second:.2f})"
        )
    mine, panoramisk = chinese_probe()
    yield f"'张三丰' fed 1 byte per read -> ours {mine!r}, panoramisk {panoramisk!r}"
    ratio = ours.per_second / theirs.per_second
    yield f"events_per_s={pipeline.per_second:.0f} panoramisk_ratio={ratio:.2f}"


def main(argv: list[str] | None = None) -> int:
    for line in lines(parse_args(argv)):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
