"""The floor plan is enforced (issue 14): import-linter's contracts from pyproject.toml all hold.

Base imports no capability and no top floor; capabilities never import the top floor; seats stand
below the hall; telephony and voicemail meet only through ports. No contract carries
ignore_imports: no debt is allowed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "import-linter is in the [test] extra"
    return subprocess.run([command, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_every_layer_contract_holds() -> None:
    done = _lint_imports(REPO)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_capability_importing_the_top_floor_is_caught(tmp_path: Path) -> None:
    """The check itself can fail: a copy of the tree with one forbidden import breaks it."""
    copy = tmp_path / "tree"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "var", "dialplans", "tests", "bench", "node_modules", "*.db"))
    with (copy / "remit" / "suggest.py").open("a", encoding="utf-8") as handle:
        handle.write("\nimport hotline.wiring  # noqa: E402,F401\n")
    done = _lint_imports(copy)
    assert done.returncode != 0 and "remit.suggest -> hotline.wiring" in done.stdout, done.stdout[-3000:]


def test_no_contract_allows_debt() -> None:
    """Issue 14: the seats' and the callbacks' reaches into the hall were removed, not excused."""
    with (REPO / "pyproject.toml").open("rb") as handle:
        contracts = tomllib.load(handle)["tool"]["importlinter"]["contracts"]
    excused = {contract["name"]: contract["ignore_imports"] for contract in contracts
               if contract.get("ignore_imports")}
    assert excused == {}


def test_seats_reaching_up_into_the_hall_are_caught(tmp_path: Path) -> None:
    """Seats stand below the hall, and voicemail reaches neither: each reach up is a broken contract."""
    copy = tmp_path / "tree"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".venv", ".git", "var", "dialplans", "tests", "bench", "node_modules", "*.db"))
    with (copy / "seat_manager" / "service.py").open("a", encoding="utf-8") as handle:
        handle.write("\nimport telephony.monitor  # noqa: E402,F401\n")
    with (copy / "voicemail" / "callbacks" / "dial.py").open("a", encoding="utf-8") as handle:
        handle.write("\nimport seat_manager.state  # noqa: E402,F401\n")
    done = _lint_imports(copy)
    assert done.returncode != 0, done.stdout[-3000:]
    assert "seat_manager.service -> telephony.monitor" in done.stdout, done.stdout[-3000:]
    assert "voicemail.callbacks.dial -> seat_manager.state" in done.stdout, done.stdout[-3000:]
