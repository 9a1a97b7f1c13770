"""hotline-pbx.json: how to reach the rendered PBX, for the sandbox and the service.

Only what a client needs to connect (the AMI account, the SIP listener, queue naming);
never SIP or trunk passwords.
"""

from __future__ import annotations

import json

from hotline.config import HotlineConfig
from ivr.addresses import bind_ip
from ivr.names import ENTRY_CONTEXT, ENTRY_NUMBER, SEAT_CONTEXT
from ivr.output import GENERATED_BY

MANIFEST_NAME = "hotline-pbx.json"


def manifest(config: HotlineConfig) -> dict[str, object]:
    return {
        "_generated": GENERATED_BY,
        "ami": {"host": bind_ip(config.ami.host, "[ami] host"), "port": config.ami.port,
                "username": config.ami.username, "secret": config.ami.secret},
        "sip": {"bind": bind_ip(config.sip.bind, "[sip] bind"), "port": config.sip.port},
        "queue": {"name": config.queue.name,
                  "member_interface": f"Local/{{seat_id}}@{SEAT_CONTEXT}",
                  "state_interface": "PJSIP/{extension}"},
        "entry": {"context": ENTRY_CONTEXT, "exten": ENTRY_NUMBER},
        "voicemail": {"pbx_spool": config.voicemail.pbx_spool},
    }


def render_manifest(config: HotlineConfig) -> bytes:
    return (json.dumps(manifest(config), ensure_ascii=False, indent=2, sort_keys=True)
            + "\n").encode("utf-8")
