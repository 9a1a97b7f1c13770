"""A small Asterisk configuration for the phone tests, run by the project's sandbox (`SandboxPbx`).

The phone tests need only registration, a few endpoints that dial each other, and two dialplan
services (an echo and a fixed tone), so they render their own minimal configuration instead of the
hotline dialplan: a phone failure then points at the phone, not at the IVR.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.phones.baresip import LOOPBACK, BaresipPhone, free_port, free_rtp_range
from hotline.sandbox import SandboxPbx

INSTANCE_NAME = "phones-dev"
PHONE_PASSWORD = "phones-secret"
EXTENSIONS = ("7001", "7002", "7003")
ECHO_EXTEN = "600"
TONE_EXTEN = "601"
PBX_TONE_HZ = 1800
AMI_USER = "phones-test"
AMI_SECRET = "phones-test-secret"
ASTERISK_RTP_SPAN = 100
DIAL_TIMEOUT_S = 20

PhoneFactory = Callable[..., BaresipPhone]  # make_phone(name, username, **BaresipPhone options)

MODULES = (
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_timing_timerfd.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",  # chan_pjsip declines to load without it
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_registrar.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_rfc3326.so",
    "res_rtp_asterisk.so",
    "chan_pjsip.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_a_mu.so",
    "format_wav.so",
    "format_pcm.so",
    "app_dial.so",
    "app_echo.so",
    "app_playback.so",
    "app_playtones.so",
    "bridge_simple.so",
    "bridge_native_rtp.so",
    "pbx_config.so",
    "func_channel.so",
)


@dataclass(frozen=True)
class PhonesPbx:
    """The running sandbox instance plus what the phones need to reach it."""

    pbx: SandboxPbx
    sip_port: int
    host: str = LOOPBACK
    password: str = PHONE_PASSWORD

    def cli(self, command: str) -> str:
        return self.pbx.cli(command)

    def contacts(self) -> str:
        return self.pbx.cli("pjsip show contacts")

    def contact_uri(self, extension: str) -> str | None:
        """The registered contact of an AOR from `pjsip show contacts` (baresip's looks like
        `sip:7001-0x55d1…@127.0.0.1:PORT`), or None when it has none."""
        for line in self.contacts().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "Contact:" and words[1].startswith(f"{extension}/sip:"):
                return words[1].split("/", 1)[1]
        return None

    def has_contact(self, extension: str) -> bool:
        return self.contact_uri(extension) is not None


def render(out: Path, *, sip_port: int, ami_port: int, rtp: tuple[int, int], indications: Path) -> Path:
    """Write the *.conf files and the sandbox manifest for one test PBX into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "hotline-pbx.json").write_text(json.dumps({
        "ami": {"host": LOOPBACK, "port": ami_port, "username": AMI_USER, "secret": AMI_SECRET},
        "sip": {"bind": LOOPBACK, "port": sip_port},
    }))
    (out / "modules.conf").write_text(
        "[modules]\nautoload=no\n" + "".join(f"load => {m}\n" for m in MODULES)
    )
    (out / "logger.conf").write_text("[general]\n[logfiles]\nmessages => notice,warning,error,verbose\n")
    (out / "manager.conf").write_text(
        f"[general]\nenabled=yes\nbindaddr={LOOPBACK}\nport={ami_port}\n"
        f"[{AMI_USER}]\nsecret={AMI_SECRET}\nread=all\nwrite=all\neventfilter=!Event: TestEvent\n"
    )
    (out / "rtp.conf").write_text(f"[general]\nrtpstart={rtp[0]}\nrtpend={rtp[1]}\n")
    endpoints = "".join(
        f"[{ext}]\ntype=endpoint\ncontext=phones\ndisallow=all\nallow=ulaw,alaw\n"
        f"auth={ext}\naors={ext}\ndirect_media=no\nmedia_address={LOOPBACK}\n"
        "bind_rtp_to_media_address=yes\ndtmf_mode=rfc4733\n"
        f"[{ext}]\ntype=auth\nauth_type=userpass\nusername={ext}\npassword={PHONE_PASSWORD}\n"
        f"[{ext}]\ntype=aor\nmax_contacts=1\nremove_existing=yes\n"
        for ext in EXTENSIONS
    )
    (out / "pjsip.conf").write_text(
        f"[transport-udp]\ntype=transport\nprotocol=udp\nbind={LOOPBACK}:{sip_port}\n" + endpoints
    )
    (out / "extensions.conf").write_text(
        "[phones]\n"
        f"exten => _7XXX,1,Dial(PJSIP/${{EXTEN}},{DIAL_TIMEOUT_S})\n same => n,Hangup()\n"
        f"exten => {ECHO_EXTEN},1,Answer()\n same => n,Echo()\n"
        f"exten => {TONE_EXTEN},1,Answer()\n same => n,Playtones({PBX_TONE_HZ})\n same => n,Wait(60)\n"
    )
    shutil.copy(indications, out / "indications.conf")
    return out


def start(rendered: Path) -> PhonesPbx:
    """Render a fresh configuration on free loopback ports and boot it in the sandbox."""
    sip_port = free_port()
    pbx = SandboxPbx(INSTANCE_NAME, rendered)
    render(rendered, sip_port=sip_port, ami_port=free_port(), rtp=free_rtp_range(ASTERISK_RTP_SPAN),
           indications=pbx.root / "etc/asterisk/indications.conf")
    pbx.up()
    missing = [m for m in MODULES if m not in pbx.cli("module show")]
    if missing:
        tail = pbx.log_tail()
        pbx.down()
        raise AssertionError(f"test PBX booted without modules {missing} (autoload=no hides this):\n{tail}")
    return PhonesPbx(pbx=pbx, sip_port=sip_port)
