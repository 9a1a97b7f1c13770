"""A real sandbox Asterisk running the hall's own rendered configuration, for integration tests.

Each instance gets free loopback ports, its own spool, archive and database, and a copy of
hotline.conf with fresh secrets, so parallel instances never meet.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hotline.config import HotlineConfig, load_config
from hotline.config.ini import write_overrides
from hotline.config.secrets import write_demo_secrets
from hotline.phones.baresip import free_port, free_rtp_range, give_back
from hotline.sandbox import SandboxPbx, ensure_root, sandbox_overrides

REPO = Path(__file__).resolve().parents[1]
PBX_RTP_SPAN = 200


@dataclass
class HallPbx:
    name: str
    workdir: Path
    config: HotlineConfig
    pbx: SandboxPbx
    rendered: Path
    overrides: dict[str, str] = field(default_factory=dict)

    def cli(self, command: str) -> str:
        return self.pbx.cli(command)

    def reset(self) -> None:
        """Between tests: hang up every channel and log every seat out of the queue."""
        self.cli("channel request hangup all")
        members = re.findall(r"(Local/\S+@hotline-seat)", self.cli(f"queue show {self.config.queue.name}"))
        for interface in sorted(set(members)):
            self.cli(f"queue remove member {interface} from {self.config.queue.name}")

    def stop(self) -> None:
        self.pbx.remove()
        rtp = range(int(self.overrides["sip.rtp_start"]), int(self.overrides["sip.rtp_end"]) + 1)
        give_back(rtp)  # a long run starts many PBXs; 200 ports each would fill the band


def start_hall_pbx(name: str, workdir: Path, overrides: Mapping[str, str] | None = None, *,
                   pjsip_local: str = "", extensions_local: str = "",
                   extra_secrets: str = "") -> HallPbx:
    """Render hotline.conf for a sandbox instance and boot it; raises with the log on failure.

    `extra_secrets` is appended to the generated secrets file, e.g. a [trunk] section with the
    password the config requires once [trunk] host is set."""
    from ivr.render import render_pbx

    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "hotline.conf", workdir / "hotline.conf")
    shutil.copy(REPO / "remit.conf", workdir / "remit.conf")
    secrets_path = write_demo_secrets(workdir / "hotline.conf")
    if extra_secrets and secrets_path is not None:
        with secrets_path.open("a", encoding="utf-8") as handle:
            handle.write("\n" + extra_secrets.strip() + "\n")
    rendered = workdir / "rendered"
    pbx = SandboxPbx(name, rendered, root=ensure_root())
    spool = sandbox_overrides(pbx)  # the same spool layout `hotline sandbox up` uses
    rtp_start, rtp_end = free_rtp_range(PBX_RTP_SPAN)
    settings = {
        "ami.port": str(free_port()),
        "sip.port": str(free_port(span=2)),
        "sip.rtp_start": str(rtp_start),
        "sip.rtp_end": str(rtp_end),
        **spool,
        "voicemail.archive": str(workdir / "archive"),
        "recording.archive": str(workdir / "recordings"),
        "database.url": f"sqlite:///{workdir / 'hotline.db'}",
        "api.port": str(free_port()),
        **(overrides or {}),
    }
    write_overrides(workdir / "hotline.conf", settings)
    config = load_config(workdir / "hotline.conf")
    render_pbx(config, rendered)
    # Test-only additions (citizen phones) through the render's include hooks.
    (rendered / "pjsip_local.conf").write_text(pjsip_local, encoding="utf-8")
    (rendered / "extensions_local.conf").write_text(extensions_local, encoding="utf-8")
    Path(spool["voicemail.spool"]).mkdir(parents=True, exist_ok=True)
    Path(spool["recording.spool"]).mkdir(parents=True, exist_ok=True)
    pbx.up()
    return HallPbx(name, workdir, config, pbx, rendered, settings)


def instance_name(tag: str) -> str:
    return f"t{os.getpid()}-{tag}"
