"""The rendered hotline configuration running in a sandbox Asterisk, for the IVR tests.

Each instance gets free loopback ports, its own voicemail spool inside the instance, and
optional test-only additions (pjsip_local.conf / extensions_local.conf) next to the render.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotline.config import HotlineConfig, load_config
from hotline.phones.baresip import LOOPBACK, free_port, free_rtp_range
from hotline.sandbox import SandboxPbx
from ivr.render import render_pbx
from telephony.ami import AmiSettings
from telephony.ami.testing import AmiSession

ASTERISK_RTP_SPAN = 200
MESSAGES_LOG = "log/messages"
PROBLEM_LINE = re.compile(r"\] (WARNING|ERROR)\[")
TEST_DATA = "ivr-test"  # folder inside the instance for test audio the caller plays


@dataclass
class IvrPbx:
    """One running instance and what tests need to drive it."""

    name: str
    pbx: SandboxPbx
    config: HotlineConfig
    out_dir: Path
    manifest: dict[str, dict[str, object]]
    boot_log: str = ""
    log_offset: int = 0
    clients: list[AmiSession] = field(default_factory=list)

    @property
    def spool(self) -> Path:
        """The voicemail spool as the host sees it."""
        return self.pbx.host_path(self.config.voicemail.pbx_spool)

    @property
    def recording_spool(self) -> Path:
        """The 质检 recording spool as the host sees it."""
        return self.pbx.host_path(self.config.recording.pbx_spool)

    def host_path(self, pbx_path: str) -> Path:
        return self.pbx.host_path(pbx_path)

    @property
    def data_dir(self) -> str:
        """A folder inside the PBX for files a test's caller plays (absolute PBX path)."""
        return f"{self.pbx.pbx_dir}/{TEST_DATA}"

    def cli(self, command: str) -> str:
        return self.pbx.cli(command)

    def messages(self) -> str:
        path = self.pbx.instance_dir / MESSAGES_LOG
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def new_problems(self) -> list[str]:
        """WARNING/ERROR lines logged since the last call (the log of this run only)."""
        text = self.messages()
        fresh, self.log_offset = text[self.log_offset:], len(text)
        return [line for line in fresh.splitlines() if PROBLEM_LINE.search(line)]

    def ami_settings(self, events_mask: str = "on") -> AmiSettings:
        """The rendered AMI account; every event class by default (the tests check what arrives)."""
        ami = self.manifest["ami"]
        return AmiSettings(host=str(ami["host"]), port=int(str(ami["port"])),
                           username=str(ami["username"]), secret=str(ami["secret"]),
                           events_mask=events_mask)

    async def ami(self) -> AmiSession:
        """A logged-in session of the real AMI client (closed by the fixture)."""
        session = await AmiSession.open(self.ami_settings())
        self.clients.append(session)
        return session

    async def close_clients(self) -> None:
        for client in self.clients:
            await client.close()
        self.clients.clear()

    def local_time(self, text: str) -> int:
        """Epoch seconds of a wall-clock time in the hall's zone, for HOTLINE_NOW."""
        return int(datetime.fromisoformat(text).replace(tzinfo=self.config.hall.tz).timestamp())


def start(name: str, hall_conf: Path, work: Path, overrides: Mapping[str, str] | None = None,
          *, pjsip_local: str = "", extensions_local: str = "") -> IvrPbx:
    """Render the hall with free ports and an in-instance spool, add test files, boot it."""
    full_name = f"{name}{os.getpid()}"
    pbx_dir = f"/srv/hotline/{full_name}"
    rtp_low, rtp_high = free_rtp_range(ASTERISK_RTP_SPAN)
    settings = {
        "ami.port": str(free_port()),
        "sip.port": str(free_port()),
        "sip.rtp_start": str(rtp_low),
        "sip.rtp_end": str(rtp_high),
        "voicemail.pbx_spool": f"{pbx_dir}/spool/hotline",
        "recording.pbx_spool": f"{pbx_dir}/spool/hotline-calls",
        **(overrides or {}),
    }
    config = load_config(hall_conf, overrides=settings)
    out_dir = work / full_name
    render_pbx(config, out_dir)
    for file_name, text in (("pjsip_local.conf", pjsip_local),
                            ("extensions_local.conf", extensions_local)):
        if text:
            (out_dir / file_name).write_text(text, encoding="utf-8")
    pbx = SandboxPbx(full_name, out_dir)
    pbx.remove()  # leftovers of an interrupted run with the same pid
    pbx.up()
    running = IvrPbx(full_name, pbx, config, out_dir,
                     json.loads((out_dir / "hotline-pbx.json").read_text(encoding="utf-8")))
    running.boot_log = running.messages()
    running.spool.mkdir(parents=True, exist_ok=True)
    running.recording_spool.mkdir(parents=True, exist_ok=True)
    running.host_path(running.data_dir).mkdir(parents=True, exist_ok=True)
    return running


def stop(running: IvrPbx) -> None:
    running.pbx.remove()
    shutil.rmtree(running.out_dir, ignore_errors=True)


__all__ = ["LOOPBACK", "IvrPbx", "start", "stop"]
