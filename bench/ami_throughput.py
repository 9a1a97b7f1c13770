"""AMI receive-path throughput: our framer + Message vs panoramisk 1.4, on the same bytes.

Run by hand (single core, pinned when the OS allows it):

    .venv/bin/python bench/ami_throughput.py [--events 100000] [--chunk 4096] [--repeat 5]
                                             [--state-machine MODULE:CALLABLE]

The captures in shared/ami-transcripts/ are looped, with fresh Uniqueid/Linkedid/ActionID
values per loop, into one byte stream that is fed in ``--chunk``-byte reads through
(a) telephony.ami.AmiFramer, building a Message for every frame, and (b) panoramisk's
AMIProtocol.data_received (its decode, framing, Message.from_line and handle_message,
with a factory whose dispatch only counts). Both sides call one counting step per event.

``--state-machine MODULE:CALLABLE`` adds a step to (a): CALLABLE(message) is called for
every event (point it at a function or at a bound method of a module-level object). The
last line's events_per_s is then the whole pipeline; panoramisk_ratio always compares the
framing+parsing stages only. The last line is exactly:

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
from pathlib import Path
from typing import Any, Final

from telephony.ami import AmiFramer, Message

DEFAULT_EVENTS: Final = 100_000
DEFAULT_CHUNK: Final = 4096
DEFAULT_REPEAT: Final = 5
TRANSCRIPT_DIR: Final = Path(__file__).resolve().parents[1] / ".." / "shared" / "ami-transcripts"
BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
ID_SPACING: Final = 1000
"""Added to the sequence part of every Uniqueid per loop, so ids never repeat."""
CHINESE_PROBE: Final = "Event: Newchannel\r\nCallerIDName: 张三丰\r\n\r\n".encode()

_UNIQUE_ID: Final = re.compile(rb"^(\w*(?:Uniqueid|Linkedid)): (\d+)\.(\d+)\r$", re.MULTILINE)
_ACTION_ID: Final = re.compile(rb"^ActionID: (\S+)\r$", re.MULTILINE)
_EVENT_LINE: Final = re.compile(rb"^Event: ", re.MULTILINE)

Step = Callable[[Message], object]


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
    """Stands in for panoramisk's Manager: dispatch only counts (the cheapest listener)."""

    forgetable_actions = ("ping", "login")

    def __init__(self) -> None:
        self.events = 0
        self.awaiting_actions: list[Any] = []

    def dispatch(self, _event: Any) -> None:
        self.events += 1

    def connection_lost(self, _exc: Any) -> None:
        """panoramisk calls this on a Shutdown event; nothing to do here."""


class _NullTransport:
    def write(self, _data: bytes) -> None:
        """Nothing is sent in this benchmark."""

    def close(self) -> None:
        """Nothing to close."""


def run_panoramisk(chunks: list[bytes]) -> Result:
    """(b) panoramisk's receive path: data_received -> from_line -> handle_message."""
    from panoramisk.ami_protocol import AMIProtocol

    protocol = AMIProtocol()
    protocol.connection_made(_NullTransport())
    factory = _CountingFactory()
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
    """Resolve MODULE:CALLABLE (dotted attribute path allowed after the colon)."""
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
    parser.add_argument("--state-machine", metavar="MODULE:CALLABLE", default=None)
    return parser.parse_args(argv)


def lines(args: argparse.Namespace) -> Iterator[str]:
    yield pin_to_one_cpu()
    stream, expected = build_stream(load_captures(args.transcripts), args.events)
    chunks = chunked(stream, args.chunk)
    megabytes = len(stream) / 1e6
    yield f"stream: {expected} events, {megabytes:.1f} MB in {len(chunks)} reads of {args.chunk} B"

    ours, theirs = best_of_interleaved(
        args.repeat, lambda: run_ours(chunks, None), lambda: run_panoramisk(chunks)
    )
    if ours.events != expected or theirs.events != expected:
        raise SystemExit(
            f"event counts differ: ours {ours.events}, panoramisk {theirs.events}, expected {expected}"
        )
    yield f"ours (framing + Message):   {ours.per_second:>9,.0f} events/s  {ours.seconds:.3f} s"
    yield f"panoramisk (data_received): {theirs.per_second:>9,.0f} events/s  {theirs.seconds:.3f} s"
    pipeline = ours
    if args.state_machine:
        step = load_step(args.state_machine)
        (pipeline,) = best_of_interleaved(args.repeat, lambda: run_ours(chunks, step))
        yield f"ours + {args.state_machine}: {pipeline.per_second:>9,.0f} events/s"
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
