"""Test citizens: extra PJSIP endpoints that reach only 12345, with the clock forced per phone.

A SIP caller cannot set channel variables, so each citizen endpoint carries HOTLINE_NOW
(set_var) and its caller id; `prohib` presentation stands for a withheld number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.config import HotlineConfig
from hotline.phones import BaresipPhone

CITIZEN_PASSWORD = "citizen-secret"
CLOSED_MOMENT = "2026-11-25T17:31:00"  # a Wednesday evening: after hours


@dataclass(frozen=True)
class Citizen:
    endpoint: str
    number: str
    name: str
    privacy: str = "allowed"
    moment: str = CLOSED_MOMENT


CITIZENS = (
    Citizen("citizen1", "13700001111", "王五"),
    Citizen("citizen2", "13700002222", "赵六"),
    Citizen("citizen3", "13700003333", "匿名", privacy="prohib"),
    Citizen("citizen4", "13700004444", "张三丰"),
)


def citizen_endpoint(endpoint: str, number: str, name: str, now_epoch: int, *,
                     privacy: str = "allowed", password: str = CITIZEN_PASSWORD) -> str:
    """pjsip_local.conf text for one test citizen: reaches only 12345, with its clock forced."""
    return f"""\
[{endpoint}](hotline-phone)
context=hotline-citizens
auth={endpoint}
aors={endpoint}
callerid="{name}" <{number}>
callerid_privacy={privacy}
set_var=HOTLINE_NOW={now_epoch}
[{endpoint}]
type=auth
auth_type=userpass
username={endpoint}
password={password}
[{endpoint}]
type=aor
max_contacts=1
remove_existing=yes
"""


def epoch_at(moment: str, tz: ZoneInfo) -> int:
    return int(datetime.fromisoformat(moment).replace(tzinfo=tz).timestamp())


def citizens_pjsip(tz: ZoneInfo) -> str:
    return "".join(citizen_endpoint(c.endpoint, c.number, c.name, epoch_at(c.moment, tz),
                                    privacy=c.privacy) for c in CITIZENS)


def citizen_phone(config: HotlineConfig, citizen: Citizen, work: Path, audio: Path | None,
                  seconds: float) -> BaresipPhone:
    """A citizen whose phone hangs up when `audio` (padded to `seconds`) has been sent."""
    return BaresipPhone(citizen.endpoint, server_host=config.sip.bind, server_port=config.sip.port,
                        username=citizen.endpoint, password=CITIZEN_PASSWORD, work_dir=work,
                        audio_source=audio, source_seconds=seconds)
