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


def citizens_pjsip(tz: ZoneInfo) -> str:
    blocks = []
    for c in CITIZENS:
        blocks.append(f"""\
[{c.endpoint}](hotline-phone)
context=hotline-citizens
auth={c.endpoint}
aors={c.endpoint}
callerid="{c.name}" <{c.number}>
callerid_privacy={c.privacy}
set_var=HOTLINE_NOW={int(datetime.fromisoformat(c.moment).replace(tzinfo=tz).timestamp())}
[{c.endpoint}]
type=auth
auth_type=userpass
username={c.endpoint}
password={CITIZEN_PASSWORD}
[{c.endpoint}]
type=aor
max_contacts=1
remove_existing=yes
""")
    return "".join(blocks)


def citizen_phone(config: HotlineConfig, citizen: Citizen, work: Path, audio: Path | None,
                  seconds: float) -> BaresipPhone:
    """A citizen whose phone hangs up when `audio` (padded to `seconds`) has been sent."""
    return BaresipPhone(citizen.endpoint, server_host=config.sip.bind, server_port=config.sip.port,
                        username=citizen.endpoint, password=CITIZEN_PASSWORD, work_dir=work,
                        audio_source=audio, source_seconds=seconds)
