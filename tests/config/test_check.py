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
    assert "检查通过 — 50 个坐席" in capsys.readouterr().out
    config = load_config(workdir / "hotline.conf")
    assert [s.seat_id for s in config.seats][:2] == ["01", "02"]
    assert config.seat("50") is not None and config.seat("50").extension == "1050"
    assert {d.name for d in config.departments} >= {"住房和城乡建设局", "供水集团"}
    assert [e.name for e in config.experts_of("住房和城乡建设局")] == ["王建国", "李明"]


# (name, change to make, the line the error must name (text the line starts with), words in the
# message: Chinese, as the administrator reads it)
BROKEN = [
    ("duplicate extension", "02 = 1002", "02 = 1001", "02 = 1001", "分机号 1001 重复"),
    ("duplicate seat id", "04 = 1004", "04 = 1004\n3 = 1099", "3 = 1099", "工号重复"),
    ("reversed", "monday = 08:30-17:30", "monday = 17:30-08:30", "monday", "首尾颠倒"),
    ("overlapping", "tuesday = 08:30-17:30", "tuesday = 08:30-12:00, 11:00-17:30", "tuesday", "重叠"),
    ("no such department", "department = 市场监督管理局", "department = 市场监管局",
     "department = 市场监管局", "没有部门“市场监管局”"),
    ("malformed phone number", "number = 13800138000", "number = 1380013800", "number = 1380013800",
     "电话号码“1380013800”格式不对"),
    ("misspelt key", "strategy = rrmemory", "stratgy = rrmemory", "stratgy", "是否想写 strategy"),
    ("misspelt section", "[queue]", "[queues]", "[queues]", "是否想写 [queue]"),
    ("not a number", "ring_timeout = 15", "ring_timeout = fifteen", "ring_timeout", "应为整数"),
    ("unknown time zone", "timezone = Asia/Shanghai", "timezone = Asia/Beijing", "timezone",
     "未知的时区"),
    ("malformed date", "holidays = 2026-01-01", "holidays = 2026-13-01", "holidays",
     "日期“2026-13-01”格式不对"),
    ("malformed time range", "wednesday = 08:30-17:30", "wednesday = 8h30-17h30", "wednesday",
     "格式不对，应为 HH:MM-HH:MM"),
    ("port out of range", "port = 5038", "port = 70000", "port = 70000", "超出范围"),
    ("rate out of range", "rate = 230", "rate = 900", "rate = 900", "应在 120 到 400 之间"),
    ("order taken", "order = 2", "order = 1", "order = 1", "已被"),
    ("no {seat}", "operator_id = {seat}号工作人员为您服务。", "operator_id = 工作人员为您服务。",
     "operator_id", "必须包含 {seat}"),
    ("expert on a seat's extension", "extension = 2003", "extension = 1010", "extension = 1010",
     "已被坐席使用"),
    ("no '='", "name = 12345政务服务便民热线", "name 12345政务服务便民热线", "name 12345",
     "应为“键 = 值”的形式"),
    # What `pbx render` would crash on or write wrongly (issue 13):
    ("Arabic-Indic seat id", "01 = 1001", "٠١ = 1001", "٠١ = 1001", "2 到 4 位数字"),
    ("full-width extension", "02 = 1002", "02 = １００２", "02 = １００２", "分机号“１００２”格式不对"),
    ("full-width expert extension", "extension = 2002", "extension = ２００２", "extension = ２００２",
     "分机号“２００２”格式不对"),
    ("quote in a seat name", "03 = 1003", '03 = 1003 王"五', "03 = 1003", "不能包含"),
    ("dial prefix", "prefix =", "prefix = 9&PJSIP/2001", "prefix", "拨号前缀“9&PJSIP/2001”格式不对"),
    ("space in pbx_spool", "pbx_spool = /var/spool/asterisk/hotline",
     "pbx_spool = /var/spool/asterisk/hot line", "pbx_spool", "会破坏拨号方案"),
    ("duplicate expert", "[expert 赵芳]", "[expert 王建国]", "[expert 王建国]", "重复的专家"),
]


@pytest.mark.parametrize(("old", "new", "needle", "words"), [b[1:] for b in BROKEN],
                         ids=[b[0] for b in BROKEN])
def test_broken_configuration_is_refused_with_its_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, needle: str, words: str
) -> None:
    conf = workdir / "hotline.conf"
    expected_line = replace(conf, old, new)
    assert conf.read_text(encoding="utf-8").splitlines()[expected_line - 1].startswith(needle)
    before = sorted(p.name for p in workdir.iterdir())
    assert main(["-c", str(conf), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    matching = [line for line in err.splitlines() if f"hotline.conf 第 {expected_line} 行：" in line]
    assert matching, f"no error names line {expected_line}:\n{err}"
    assert any(words in line for line in matching), err
    assert sorted(p.name for p in workdir.iterdir()) == before, "check must write nothing"


def test_missing_secret_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = workdir / "hotline.secrets"
    replace(secrets, "\n07 = ", "\n; 07 = ")
    assert main(["-c", str(workdir / "hotline.conf"), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    line = line_of(workdir / "hotline.conf", "07 = 1007")
    assert f"hotline.conf 第 {line} 行：[seats] 07：缺少密钥：坐席 07 没有 SIP 密码" in err


def test_secrets_file_may_hold_only_secrets(workdir: Path) -> None:
    with (workdir / "hotline.secrets").open("a", encoding="utf-8") as handle:
        handle.write("\n[queue]\nstrategy = ringall\n")
    with pytest.raises(ConfigError) as caught:
        load_config(workdir / "hotline.conf")
    assert "hotline.secrets" in str(caught.value)
    assert "密钥文件只能包含" in str(caught.value)


def test_not_utf8_names_the_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = workdir / "hotline.conf"
    text = conf.read_text(encoding="utf-8")
    conf.write_bytes(text.replace("name = 12345政务服务便民热线",
                                  "name = 12345政务服务便民热线").encode("gb18030"))
    assert main(["-c", str(conf), "check"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    first_non_ascii = next(n for n, line in enumerate(text.splitlines(), 1)
                           if any(ord(c) > 127 for c in line))
    assert f"hotline.conf 第 {first_non_ascii} 行：文件不是 UTF-8 编码" in err


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
