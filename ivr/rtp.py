"""rtp.conf: the RTP port range from [sip]; no ICE/STUN, which would probe other networks."""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section


def render_rtp(config: HotlineConfig) -> bytes:
    general = section("general", [
        ("rtpstart", config.sip.rtp_start),
        ("rtpend", config.sip.rtp_end),
        ("strictrtp", "yes"),
        ("icesupport", "no"),
    ])
    return document("RTP media ports (the address is set per endpoint in pjsip.conf).",
                    [general])
