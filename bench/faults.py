"""The fault table of issue 13: each fault struck while two calls are in progress on a sandbox
Asterisk with real seat phones, then the service's picture and books checked against Asterisk.

Run by hand (about 8 minutes):

    .venv/bin/python bench/faults.py [--only cut]

It prints one row a fault (converged in seconds after the fault was lifted, records lost,
records duplicated, wrong times); the last line is exactly

    faults=N clean=C worst_converge_s=W lost=L duplicated=D wrong_times=T

The baseline in the same run is the first fault, a 1 s cut: every other row's convergence is
also printed as a ratio to it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.hall_pbx import instance_name, start_hall_pbx  # noqa: E402
from tests.integration.faults import (  # noqa: E402
    FAULT_PBX_OVERRIDES,
    FAULTS,
    Outcome,
    run_fault,
    table,
)


async def _run_all(work: Path, only: str | None) -> list[Outcome]:
    pbx = start_hall_pbx(instance_name("faultbench"), work / "pbx", FAULT_PBX_OVERRIDES)
    outcomes = []
    try:
        for index, fault in enumerate(f for f in FAULTS if only in (None, f.kind)):
            outcome = await run_fault(pbx, work / f"fault{index}", fault)
            outcomes.append(outcome)
            for problem in outcome.problems:
                print(f"  {fault.name}: {problem}", flush=True)
    finally:
        pbx.stop()
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted({f.kind for f in FAULTS}))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    try:
        outcomes = asyncio.run(_run_all(work, args.only))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(outcomes))
    base = outcomes[0].converged_s or 0.0
    for o in outcomes[1:]:
        if o.converged_s is not None and base > 0:
            print(f"{o.fault.name}: 收敛 {o.converged_s / base:.2f}× 基线（{outcomes[0].fault.name}）")
    converged = [o.converged_s for o in outcomes if o.converged_s is not None]
    print(f"faults={len(outcomes)} clean={sum(o.clean for o in outcomes)} "
          f"worst_converge_s={max(converged, default=float('nan')):.1f} "
          f"lost={sum(o.lost for o in outcomes)} duplicated={sum(o.duplicated for o in outcomes)} "
          f"wrong_times={sum(o.wrong_times for o in outcomes)}")


if __name__ == "__main__":
    main()
