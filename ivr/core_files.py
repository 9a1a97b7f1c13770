"""Core configuration files Asterisk reads at start whatever the modules: rendered explicitly.

Missing, each logs an ERROR at start (cdr.conf, cel.conf, features.conf, acl.conf, udptl.conf,
pjproject.conf, ccss.conf, stasis.conf), which would hide real errors in a clean-start check.
CDR and CEL are off: the service tracks calls from AMI events and no CDR backend is loaded.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section

STASIS_POOL_INITIAL = 5
STASIS_POOL_IDLE_SECONDS = 20
STASIS_POOL_MAX = 50


def core_files(config: HotlineConfig) -> dict[str, bytes]:
    del config  # the same for every hall
    return {
        "cdr.conf": document("Call detail records: off (no backend; AMI events are used).",
                             [section("general", [("enable", "no")])]),
        "cel.conf": document("Channel event logging: off.",
                             [section("general", [("enable", "no")])]),
        "features.conf": document("Call features: Asterisk defaults (no DTMF features are "
                                  "enabled by the dialplan).", [section("general", [])]),
        "acl.conf": document("Named ACLs: none (manager.conf has its own permit lines).", []),
        "udptl.conf": document("T.38 fax transport: not used; defaults.",
                               [section("general", [])]),
        "pjproject.conf": document("pjproject library logging: Asterisk defaults.",
                                   [section("startup", [("type", "startup")])]),
        "ccss.conf": document("Call completion: not used; defaults.",
                              [section("general", [])]),
        "stasis.conf": document("Stasis message bus: default thread pool.", [
            section("threadpool", [("initial_size", STASIS_POOL_INITIAL),
                                   ("idle_timeout_sec", STASIS_POOL_IDLE_SECONDS),
                                   ("max_size", STASIS_POOL_MAX)])]),
    }
