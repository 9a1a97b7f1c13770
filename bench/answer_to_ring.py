"""How long a daytime caller waits between Asterisk answering and a seat's phone ringing.

The shipped hotline.conf is rendered into a sandbox Asterisk; a baresip seat phone logs in to the
queue and a baresip citizen phone dials 12345 (forced to an open Thursday morning) --calls times.
The wait is measured from the citizen's CALL_ESTABLISHED (Asterisk answered) to the seat phone's
CALL_INCOMING (it rings). The baseline in the same run is what the dialplan itself imposes: the
rendered entry prompts' length plus the wait for a 工号 (ivr.dialplan.daytime_entry_seconds).

Run by hand:

    .venv/bin/python bench/answer_to_ring.py [--calls 3]

The last line is exactly:

    calls=N answer_to_ring_s=W prompts_s=P overhead_ratio=R

where W is the median wait, P the baseline and R = W / P. Issue 13 asks for W < 8 s (was ~18 s).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hotline.config.secrets import write_demo_secrets  # noqa: E402
from ivr.dialplan import daytime_entry_prompts, daytime_entry_seconds  # noqa: E402
from ivr.names import member_interface, state_interface  # noqa: E402
from tests.ivr import pbx as ivr_pbx  # noqa: E402
from tests.ivr.phones import CITIZEN_PJSIP, OPEN_CITIZEN, citizen_phone, seat_phone  # noqa: E402

SEAT: Final = "01"
RING_TIMEOUT_S: Final = 60.0


def _prompt_s(pbx: ivr_pbx.IvrPbx) -> float:
    lengths = {}
    for name in daytime_entry_prompts(pbx.config):
        with wave.open(str(pbx.out_dir / "sounds" / "hotline" / f"{name}.wav"), "rb") as audio:
            lengths[name] = audio.getnframes() / audio.getframerate()
    return daytime_entry_seconds(pbx.config, lengths)


async def _one_call(pbx: ivr_pbx.IvrPbx, work: Path) -> float:
    """Seconds from the citizen being answered to the seat phone ringing."""
    async with seat_phone(pbx, SEAT, work, auto_answer=False) as seat, \
            citizen_phone(pbx, OPEN_CITIZEN, work) as citizen:
        await citizen.dial("12345")
        await citizen.wait_for("CALL_ESTABLISHED", timeout=RING_TIMEOUT_S)
        answered = time.monotonic()
        await seat.wait_for("CALL_INCOMING", timeout=RING_TIMEOUT_S)
        rang = time.monotonic()
        await citizen.hangup()
        await citizen.wait_for("CALL_CLOSED")
    return rang - answered


async def _measure(pbx: ivr_pbx.IvrPbx, work: Path, calls: int) -> list[float]:
    ami = await pbx.ami()
    seat = pbx.config.seat(SEAT)
    assert seat is not None
    await ami.action("QueueAdd", Queue=pbx.config.queue.name, Interface=member_interface(SEAT),
                     StateInterface=state_interface(seat.extension), MemberName=SEAT)
    waits = []
    for index in range(calls):
        waits.append(await _one_call(pbx, work / f"call{index}"))
        print(f"call {index + 1}: {waits[-1]:.2f} s from answer to the seat ringing", flush=True)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="answer-to-ring-"))
    try:
        conf = work / "hotline.conf"
        shutil.copy(REPO / "hotline.conf", conf)
        shutil.copy(REPO / "remit.conf", work / "remit.conf")
        write_demo_secrets(conf)
        pbx = ivr_pbx.start("ringbench", conf, work / "render", pjsip_local=CITIZEN_PJSIP)
        try:
            waits = asyncio.run(_measure(pbx, work / "phones", args.calls))
            prompts = _prompt_s(pbx)
        finally:
            ivr_pbx.stop(pbx)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wait = statistics.median(waits)
    print(f"calls={len(waits)} answer_to_ring_s={wait:.2f} prompts_s={prompts:.2f} "
          f"overhead_ratio={wait / prompts:.2f}")


if __name__ == "__main__":
    main()
