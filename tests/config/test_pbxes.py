"""Several PBXs in one hotline.conf: each with its own AMI, SIP and seats; seats unique across them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import ConfigError, load_config
from tests.two_halls import WEST, two_hall_conf


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def add(workdir: Path, conf: str = WEST) -> Path:
    return two_hall_conf(workdir, conf)


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(issue) for issue in caught.value.issues]


def test_todays_file_is_one_pbx_named_main(workdir: Path) -> None:
    config = load_config(add(workdir, ""))
    assert [p.name for p in config.pbxes] == ["main"]
    main = config.pbxes[0]
    assert main.display_name == config.hall.name
    assert main.ami == config.ami and main.sip == config.sip
    assert main.seats == config.seats and all(s.pbx == "main" for s in config.seats)
    assert config.for_pbx("main") == config


def test_two_pbxes_each_with_its_seats(workdir: Path) -> None:
    path = add(workdir)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "secrets_file = hotline.secrets", "secrets_file = hotline.secrets\npbx = east\npbx_hall = 城东大厅"),
        encoding="utf-8")
    config = load_config(path)
    east, west = config.pbxes
    assert (east.name, east.display_name) == ("east", "城东大厅")
    assert (west.name, west.display_name) == ("west", "城西大厅")
    assert len(east.seats) == 50 and [s.seat_id for s in west.seats] == ["61", "62"]
    assert west.seats[0].name == "张三" and len(west.seats[0].password) > 8
    assert (west.ami.port, west.sip.port, west.sip.rtp_start) == (6038, 6060, 12000)
    assert west.ami.secret and west.ami.secret != east.ami.secret
    assert west.queue_log == workdir / "var/west/queue_log"
    assert len(config.seats) == 52 and config.seat("61").pbx == "west"
    view = config.for_pbx("west")
    assert view.ami == west.ami and view.sip == west.sip and view.seats == west.seats
    assert view.queue.queue_log == west.queue_log and [p.name for p in view.pbxes] == ["west"]
    assert view.pbxes[0].display_name == "城西大厅"


def test_seat_id_on_two_pbxes_is_refused_with_both_lines(workdir: Path) -> None:
    path = add(workdir, WEST.replace("61 = 1061 张三", "07 = 1061 张三"))
    line = path.read_text(encoding="utf-8").splitlines().index("07 = 1061 张三") + 1
    first = path.read_text(encoding="utf-8").splitlines().index("07 = 1007") + 1
    found = issues_of(path)
    assert any(f"hotline.conf 第 {line} 行：[seats] 07：工号重复" in i and f"第 {first} 行" in i
               for i in found), found


@pytest.mark.parametrize(("conf", "needle"), [
    (WEST.replace("[seats west]", "[seats wset]"), "没有名为“wset”的交换机；是否想写 [seats west]？"),
    (WEST.replace("ami_port = 6038", "ami_port = 5038"), "与交换机“main”的 AMI 地址相同"),
    (WEST.replace("sip_port = 6060", "sip_port = 5060"), "与交换机“main”的 SIP 地址相同"),
    (WEST.replace("ami_port = 6038", "ami_port = 70000"), "[pbx west] ami_port：70000 超出范围"),
    (WEST.replace("[pbx west]", "[pbx 西]").replace("[seats west]", "[seats 西]"), "交换机名称须以字母开头"),
    (WEST.replace("[pbx west]", "[pbx main]").replace("[seats west]", "[seats main]"),
     "“main”是第一台交换机"),
    (WEST.replace("62 = 1062", "62 = 1007"), "分机号 1007 重复"),
    (WEST + "\n[pbx west]\nhall = 又一个\n", "[pbx west]：重复的段"),
    (WEST.replace("hall = 城西大厅", "hall = 城西大厅\ncolour = red"), "[pbx west] colour：未知的键"),
    (WEST.split("[seats west]")[0], "交换机“west”没有坐席：请添加 [seats west]"),
])
def test_bad_pbx_sections_are_refused(workdir: Path, conf: str, needle: str) -> None:
    found = issues_of(add(workdir, conf))
    assert any(needle in i for i in found), found


def test_missing_secret_of_a_pbx_is_refused(workdir: Path) -> None:
    path = add(workdir)
    secrets = workdir / "hotline.secrets"
    secrets.write_text(secrets.read_text(encoding="utf-8").replace("[pbx west]", "[pbx-west]"),
                       encoding="utf-8")
    found = issues_of(path)
    assert any("密钥文件只能包含" in i for i in found), found
    secrets.write_text(secrets.read_text(encoding="utf-8").replace("[pbx-west]\n", "[trunk]\npassword"
                                                                   " = x\n;"), encoding="utf-8")
    found = issues_of(path)
    assert any("[pbx west] secret：缺少密钥" in i for i in found), found


def test_override_moves_a_pbx_port(workdir: Path) -> None:
    config = load_config(add(workdir), {"pbx west.ami_port": "7038"})
    assert config.pbx("west").ami.port == 7038


def test_a_secret_for_a_pbx_the_file_does_not_name_is_refused(workdir: Path) -> None:
    path = add(workdir)
    secrets = workdir / "hotline.secrets"
    secrets.write_text(secrets.read_text(encoding="utf-8") + "\n[pbx east]\nsecret = x\n", encoding="utf-8")
    found = issues_of(path)
    assert any("hotline.secrets" in i and "[pbx east]：hotline.conf 中没有 [pbx east]" in i
               for i in found), found


def test_a_pbx_may_have_its_own_spools(workdir: Path) -> None:
    own = WEST.replace("queue_log = var/west/queue_log", "queue_log = var/west/queue_log\n"
                       "voicemail_pbx_spool = /var/spool/asterisk/west-vm\nvoicemail_spool = var/west/vm\n"
                       "recording_pbx_spool = /var/spool/asterisk/west-rec\nrecording_spool = var/west/rec")
    config = load_config(add(workdir, own))
    west = config.for_pbx("west")
    assert (west.voicemail.pbx_spool, west.voicemail.spool) == ("/var/spool/asterisk/west-vm",
                                                                 workdir / "var/west/vm")
    assert (west.recording.pbx_spool, west.recording.spool) == ("/var/spool/asterisk/west-rec",
                                                                 workdir / "var/west/rec")
    assert west.voicemail.archive == config.voicemail.archive  # one archive for every hall
    assert config.for_pbx("main").voicemail == config.voicemail
    shared = load_config(add(workdir / "shared"))
    assert shared.for_pbx("west").voicemail == shared.voicemail  # no keys: the first PBX's spool


def test_a_pbx_spool_that_would_break_the_dialplan_is_refused(workdir: Path) -> None:
    bad = WEST.replace("queue_log = var/west/queue_log",
                       "queue_log = var/west/queue_log\nvoicemail_pbx_spool = /var/spool/a b")
    found = issues_of(add(workdir, bad))
    assert any("[pbx west] voicemail_pbx_spool：应为交换机上的绝对路径" in i for i in found), found
