"""Two sandbox Asterisks rendered from one hotline.conf with two PBXs ("main" and "west"), for the
integration tests of several halls. Each instance has its own ports, spools and queue_log, all
named in hotline.conf ([pbx west] voicemail_pbx_spool, recording_spool, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hotline.config import HotlineConfig, load_config
from hotline.config.ini import write_overrides
from hotline.phones.baresip import free_port, free_rtp_range
from hotline.sandbox import SandboxPbx, ensure_root, sandbox_overrides
from tests.hall_pbx import PBX_RTP_SPAN
from tests.two_halls import two_hall_conf

WEST = "west"


@dataclass
class TwoHalls:
    config: HotlineConfig  # the service's view: both PBXs
    main: SandboxPbx
    west: SandboxPbx

    def of(self, pbx: str) -> HotlineConfig:
        return self.config.for_pbx(pbx)


def _ports(ami: str, sip: str, rtp: str) -> dict[str, str]:
    """Free ports for one PBX: `ami` and `sip` are "section.key", `rtp` the section of its range."""
    rtp_start, rtp_end = free_rtp_range(PBX_RTP_SPAN)
    return {ami: str(free_port()), sip: str(free_port(span=2)),
            f"{rtp}.rtp_start": str(rtp_start), f"{rtp}.rtp_end": str(rtp_end)}


def _render(view: HotlineConfig, pbx: SandboxPbx) -> None:
    """One PBX's configuration (its seats, its own spools) into its instance's folder."""
    from ivr.render import render_pbx

    render_pbx(view, pbx.rendered_dir)
    for name in ("pjsip_local.conf", "extensions_local.conf"):
        (pbx.rendered_dir / name).write_text("", encoding="utf-8")
    view.voicemail.spool.mkdir(parents=True, exist_ok=True)
    view.recording.spool.mkdir(parents=True, exist_ok=True)


@contextmanager
def two_halls(tag: str, workdir: Path, overrides: dict[str, str] | None = None) -> Iterator[TwoHalls]:
    """Both PBXs up (each with only its seats), and the configuration `hotline serve` reads."""
    conf = two_hall_conf(workdir)
    root = ensure_root()
    main = SandboxPbx(f"{tag}-main", workdir / "rendered-main", root=root)
    west = SandboxPbx(f"{tag}-west", workdir / "rendered-west", root=root)
    west_spool = sandbox_overrides(west)
    settings = {
        **_ports("ami.port", "sip.port", "sip"),
        **_ports(f"pbx {WEST}.ami_port", f"pbx {WEST}.sip_port", f"pbx {WEST}"),
        **sandbox_overrides(main),
        **{f"pbx {WEST}.{key.replace('.', '_')}": value for key, value in west_spool.items()
           if key.startswith(("voicemail.", "recording."))},
        f"pbx {WEST}.queue_log": west_spool["queue.queue_log"],
        "voicemail.archive": str(workdir / "archive"), "recording.archive": str(workdir / "recordings"),
        "database.url": f"sqlite:///{workdir / 'hotline.db'}", "api.port": str(free_port()),
        **(overrides or {}),
    }
    write_overrides(conf, settings)
    config = load_config(conf)
    _render(config.for_pbx("main"), main)
    _render(config.for_pbx(WEST), west)
    try:
        main.up()
        west.up()
        yield TwoHalls(config, main, west)
    finally:
        west.remove()
        main.remove()
