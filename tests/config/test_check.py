"""`hotline check`: the shipped file passes; each broken file is refused naming the right line."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from hotline.cli import EXIT_REFUSED, main
from hotline.config import ConfigError, load_config
from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    assert write_demo_secrets(tmp_path / "hotline.conf") is not None
    return tmp_path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith(needle):
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def replace(path: Path, old: str, new: str) -> int:
    """Replace the first `old`; return the line number of the last line of `new`."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    at = text.index(old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:at].count("\n") + new.count("\n") + 1


def test_shipped_configuration_is_valid(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(workdir / "hotline.conf"), "check"]) == 0
    assert "50 seats" in capsys.readouterr().out
    config = load_config(workdir / "hotline.conf")
    assert [s.seat_id for s in config.seats][:2] == ["01", "02"]
    assert config.seat("50") is not None and config.seat("50").extension == "1050"
    assert {d.name for d in config.departments} >= {"住房和城乡建设局", "供水集团"}
    assert [e.name for e in config.experts_of("住房和城乡建设局")] == ["王建国", "李明"]


# (change to make, the line the error must name (text the line starts with), words in the message)
BROKEN = [
    ("02 = 1002", "02 = 1001", "02 = 1001", "duplicate extension"),
    ("04 = 1004", "04 = 1004\n3 = 1099", "3 = 1099", "duplicate seat id"),
    ("monday = 08:30-17:30", "monday = 17:30-08:30", "monday", "reversed"),
    ("tuesday = 08:30-17:30", "tuesday = 08:30-12:00, 11:00-17:30", "tuesday", "overlapping"),
    ("department = 市场监督管理局", "department = 市场监管局", "department = 市场监管局",
     "no such department"),
    ("number = 13800138000", "number = 1380013800", "number = 1380013800",
     "malformed phone number"),
    ("strategy = rrmemory", "stratgy = rrmemory", "stratgy", "did you mean 'strategy'"),
    ("[queue]", "[queues]", "[queues]", "did you mean [queue]"),
    ("ring_timeout = 15", "ring_timeout = fifteen", "ring_timeout", "whole number"),
    ("timezone = Asia/Shanghai", "timezone = Asia/Beijing", "timezone", "unknown time zone"),
    ("holidays = 2026-01-01", "holidays = 2026-13-01", "holidays", "malformed date"),
    ("wednesday = 08:30-17:30", "wednesday = 8h30-17h30", "wednesday", "malformed time range"),
    ("port = 5038", "port = 70000", "port = 70000", "out of range"),
    ("rate = 230", "rate = 900", "rate = 900", "expected 120 to 400"),
    ("order = 2", "order = 1", "order = 1", "already taken"),
    ("operator_id = {seat}号工作人员为您服务。", "operator_id = 工作人员为您服务。", "operator_id",
     "must contain {seat}"),
    ("extension = 2003", "extension = 1010", "extension = 1010", "already a seat"),
    ("name = 12345政务服务便民热线", "name 12345政务服务便民热线", "name 12345",
     "expected 'key = value'"),
    # What `pbx render` would crash on or write wrongly (issue 13):
    ("01 = 1001", "٠١ = 1001", "٠١ = 1001", "2 to 4 digits"),  # Arabic-Indic digits
    ("02 = 1002", "02 = １００２", "02 = １００２", "malformed extension"),  # full-width digits
    ("extension = 2002", "extension = ２００２", "extension = ２００２", "malformed extension"),
    ("03 = 1003", '03 = 1003 王"五', "03 = 1003", "may not contain"),
    ("prefix =", "prefix = 9&PJSIP/2001", "prefix", "malformed dial prefix"),
    ("pbx_spool = /var/spool/asterisk/hotline", "pbx_spool = /var/spool/asterisk/hot line",
     "pbx_spool", "would break the dialplan"),
    ("[expert 赵芳]", "[expert 王建国]", "[expert 王建国]", "duplicate expert"),
]


@pytest.mark.parametrize(("old", "new", "needle", "words"), BROKEN, ids=[b[3] for b in BROKEN])
def test_broken_configuration_is_refused_with_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, needle: str, words: str
) -> None:
    conf = workdir / "hotline.conf"
    expected_line = replace(conf, old, new)
    assert conf.read_text(encoding="utf-8").splitlines()[expected_line - 1].startswith(needle)
    before = sorted(p.name for p in workdir.iterdir())
    assert main(["-c", str(conf), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    matching = [line for line in err.splitlines() if f"hotline.conf:{expected_line}:" in line]
    assert matching, f"no error names line {expected_line}:\n{err}"
    assert any(words in line for line in matching), err
    assert sorted(p.name for p in workdir.iterdir()) == before, "check must write nothing"


def test_missing_secret_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = workdir / "hotline.secrets"
    replace(secrets, "\n07 = ", "\n; 07 = ")
    assert main(["-c", str(workdir / "hotline.conf"), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    line = line_of(workdir / "hotline.conf", "07 = 1007")
    assert f"hotline.conf:{line}: [seats] 07: missing secret" in err


def test_secrets_file_may_hold_only_secrets(workdir: Path) -> None:
    with (workdir / "hotline.secrets").open("a", encoding="utf-8") as handle:
        handle.write("\n[queue]\nstrategy = ringall\n")
    with pytest.raises(ConfigError) as caught:
        load_config(workdir / "hotline.conf")
    assert "hotline.secrets" in str(caught.value)
    assert "may only hold" in str(caught.value)


def test_not_utf8_names_the_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = workdir / "hotline.conf"
    text = conf.read_text(encoding="utf-8")
    conf.write_bytes(text.replace("name = 12345政务服务便民热线",
                                  "name = 12345政务服务便民热线").encode("gb18030"))
    assert main(["-c", str(conf), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    first_non_ascii = next(n for n, line in enumerate(text.splitlines(), 1)
                           if any(ord(c) > 127 for c in line))
    assert f"hotline.conf:{first_non_ascii}: the file is not UTF-8" in err


def test_every_issue_is_reported_at_once(workdir: Path) -> None:
    conf = workdir / "hotline.conf"
    replace(conf, "02 = 1002", "02 = 1001")
    replace(conf, "ring_timeout = 15", "ring_timeout = -1")
    with pytest.raises(ConfigError) as caught:
        load_config(conf)
    assert len(caught.value.issues) == 2


def test_opening_hours_logic() -> None:
    hours = load_config(REPO / "hotline.conf").hours
    tz = load_config(REPO / "hotline.conf").hall.tz
    assert hours.is_open(datetime(2026, 11, 25, 17, 29, tzinfo=tz))  # Wednesday
    assert not hours.is_open(datetime(2026, 11, 25, 17, 31, tzinfo=tz))
    assert not hours.is_open(datetime(2026, 11, 25, 8, 29, tzinfo=tz))
    assert not hours.is_open(datetime(2026, 10, 1, 10, 0, tzinfo=tz))  # National Day, a Thursday
    assert hours.is_open(datetime(2026, 10, 10, 10, 0, tzinfo=tz))  # 调休 Saturday
    assert not hours.is_open(datetime(2026, 10, 17, 10, 0, tzinfo=tz))  # ordinary Saturday


def test_night_shift_crosses_midnight(workdir: Path) -> None:
    config = load_config(workdir / "hotline.conf", overrides={"hours.night_shift": "22:00-06:00"})
    tz = config.hall.tz
    assert config.hours.is_open(datetime(2026, 10, 1, 23, 0, tzinfo=tz))  # holiday night
    assert config.hours.is_open(datetime(2026, 10, 17, 5, 59, tzinfo=tz))
    assert not config.hours.is_open(datetime(2026, 10, 17, 6, 0, tzinfo=tz))
