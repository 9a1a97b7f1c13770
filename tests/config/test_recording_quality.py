"""[recording] and [quality]: the shipped values, the switch, and bad values refused by line."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from hotline.config import ConfigError, load_config
from hotline.config.secrets import write_demo_secrets
from quality.measures import limits_from
from quality.sampling import parse_form

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    return tmp_path / "hotline.conf"


def test_shipped_recording_and_quality(conf: Path) -> None:
    config = load_config(conf)
    assert config.recording.enabled and config.recording.retention_days == 180
    assert config.recording.archive == conf.parent / "var" / "recordings"
    assert "录音" in config.prompts.recording_notice
    limits = limits_from(asdict(config.quality))
    assert (limits.too_fast_per_min, limits.long_silence_s) == (260, 5)
    assert config.quality.sample_share == 0.03
    assert parse_form(config.quality.form)[0].name == "服务态度"


def test_recording_can_be_switched_off(conf: Path) -> None:
    assert not load_config(conf, overrides={"recording.enabled": "no"}).recording.enabled


def test_bad_values_are_refused_with_their_line(conf: Path) -> None:
    text = conf.read_text(encoding="utf-8")
    conf.write_text(text.replace("retention_days = 180", "retention_days = forever")
                        .replace("too_fast_per_min = 260", "too_fast_per_min = 5"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(conf)
    lines = conf.read_text(encoding="utf-8").splitlines()
    found = {(issue.section, issue.key): issue.line for issue in caught.value.issues}
    assert lines[found[("recording", "retention_days")] - 1] == "retention_days = forever"
    assert lines[found[("quality", "too_fast_per_min")] - 1] == "too_fast_per_min = 5"
    assert len(found) == 2


@pytest.mark.parametrize("spool", ["/var/spool/asterisk/hotline calls", "/var/spool/a,b", "/x/$y"])
def test_a_spool_the_dialplan_cannot_hold_is_refused_by_check(conf: Path, spool: str) -> None:
    """Issue 13: `hotline check` passed a [recording] pbx_spool that `pbx render` then refused
    (it is written into the dialplan verbatim, like [voicemail]'s)."""
    text = conf.read_text(encoding="utf-8")
    conf.write_text(text.replace("pbx_spool = /var/spool/asterisk/hotline-calls", f"pbx_spool = {spool}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(conf)
    (issue,) = caught.value.issues
    assert (issue.section, issue.key) == ("recording", "pbx_spool")
    assert conf.read_text(encoding="utf-8").splitlines()[issue.line - 1] == f"pbx_spool = {spool}"
    assert "拨号方案" in str(issue)
