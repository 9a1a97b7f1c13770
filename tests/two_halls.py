"""A second PBX ("west", 城西大厅) added to the shipped hotline.conf, for the tests of several PBXs."""

from __future__ import annotations

import shutil
from pathlib import Path

from hotline.config.secrets import write_demo_secrets

REPO = Path(__file__).resolve().parents[1]

WEST = """
[pbx west]
hall = 城西大厅
ami_host = 127.0.0.1
ami_port = 6038
sip_bind = 127.0.0.1
sip_port = 6060
rtp_start = 12000
rtp_end = 12999
queue_log = var/west/queue_log

[seats west]
61 = 1061 张三
62 = 1062
"""


def two_hall_conf(folder: Path, conf: str = WEST) -> Path:
    """The shipped hotline.conf (and remit.conf) plus `conf`, with demo secrets for every PBX."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "remit.conf", folder / "remit.conf")
    path = folder / "hotline.conf"
    path.write_text((REPO / "hotline.conf").read_text(encoding="utf-8") + conf, encoding="utf-8")
    assert write_demo_secrets(path) is not None
    return path
