"""Real SIP phones (baresip) for the IVR tests: seats, experts and a citizen.

Citizens are test-only endpoints added through pjsip_local.conf (the render's hook for extra
endpoints): context hotline-citizens, and HOTLINE_NOW forced with PJSIP's set_var, since a
SIP caller cannot set channel variables itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.phones import BaresipPhone
from tests.integration.citizens import CITIZEN_PASSWORD, citizen_endpoint
from tests.ivr.pbx import LOOPBACK, IvrPbx

ZONE = ZoneInfo("Asia/Shanghai")  # the shipped hotline.conf's [hall] timezone
CITIZEN_NAME = "王五"
OPEN_NOW = int(datetime(2026, 11, 26, 10, 0, tzinfo=ZONE).timestamp())  # a Thursday
CLOSED_NOW = int(datetime(2026, 11, 26, 17, 31, tzinfo=ZONE).timestamp())
# name -> (caller number, forced clock, presentation of the number)
CITIZENS = {
    "citizen1": ("13700001111", OPEN_NOW, "allowed"),
    "citizen2": ("13700002222", CLOSED_NOW, "allowed"),
    "citizen3": ("13700003333", CLOSED_NOW, "prohib"),  # a caller who withholds the number
}
OPEN_CITIZEN, CLOSED_CITIZEN, PRIVATE_CITIZEN = "citizen1", "citizen2", "citizen3"


CITIZEN_PJSIP = "".join(citizen_endpoint(name, number, CITIZEN_NAME, now, privacy=privacy)
                        for name, (number, now, privacy) in CITIZENS.items())


def seat_phone(pbx: IvrPbx, seat_id: str, work: Path, *, auto_answer: bool = True,
               ) -> BaresipPhone:
    seat = pbx.config.seat(seat_id)
    assert seat is not None, seat_id
    return BaresipPhone(f"seat{seat_id}", server_host=LOOPBACK, server_port=pbx.config.sip.port,
                        username=seat.extension, password=seat.password, work_dir=work,
                        auto_answer=auto_answer)


def expert_phone(pbx: IvrPbx, extension: str, work: Path) -> BaresipPhone:
    expert = next(e for e in pbx.config.experts if e.extension == extension)
    return BaresipPhone(f"expert{extension}", server_host=LOOPBACK,
                        server_port=pbx.config.sip.port, username=extension,
                        password=expert.password, work_dir=work, auto_answer=True)


def citizen_phone(pbx: IvrPbx, name: str, work: Path, audio: Path | None = None,
                  ) -> BaresipPhone:
    return BaresipPhone(name, server_host=LOOPBACK, server_port=pbx.config.sip.port,
                        username=name, password=CITIZEN_PASSWORD, work_dir=work,
                        audio_source=audio)
