"""manager.conf: one AMI user for the service, reachable from loopback, with least privilege.

Read classes (events the service receives):
- system: FullyBooted/Shutdown/Reload (resync after a PBX restart), ContactStatus (seat
  phones registering and dropping).
- call: Newchannel, Newstate, Hangup, DialBegin/End, BridgeEnter/Leave, DeviceStateChange,
  ConfbridgeJoin/Leave, OriginateResponse: call tracking and seat device states.
- agent: QueueCallerJoin/Leave/Abandon, AgentCalled/Connect/Complete, QueueMember*.
- user: UserEvent (HotlineRoute, HotlineVoicemail, ...) published by our dialplan.
Left out on purpose: dialplan (Newexten, VarSet floods), dtmf, reporting (RTCP floods),
cdr, cel, security, config, command, test.

Write classes (actions the service sends), each the least that Asterisk accepts:
- system: PJSIPShowContacts, PJSIPShowEndpoints (no narrower class allows them).
- call: Redirect, Hangup, Setvar, ConfbridgeKick.
- agent: QueueAdd, QueueRemove, QueuePause.
- originate: Originate.
- reporting: CoreShowChannels, DeviceStateList, Getvar, ConfbridgeList, BridgeList,
  BridgeInfo, CoreSettings, CoreStatus, QueueStatus.
Not granted: command (CLI), config, dialplan, message, user.

The cost of "system": Asterisk also accepts it for GetConfig/UpdateConfig, ModuleLoad, Reload
and DialplanExtensionAdd, so this account can read and change the PBX's configuration. If the
service can live on DeviceStateList plus ContactStatus events instead of PJSIPShowContacts and
PJSIPShowEndpoints, dropping "system" from WRITE_CLASSES removes all of that. Mitigations in
place: AMI listens on loopback only, app_system and func_shell are not loaded, and
live_dangerously (off by default) keeps FILE() and friends out of AMI's reach.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.addresses import bind_ip, host_acl, is_loopback, is_unspecified
from ivr.asterisk_conf import document, section

READ_CLASSES = ("system", "call", "agent", "user")
WRITE_CLASSES = ("system", "call", "agent", "originate", "reporting")
# Events that pass the class mask but the service never uses.
EVENT_FILTERS = ("!Event: TestEvent",)
LOOPBACK_ACLS = ("127.0.0.1/32", "::1/128")
AUTH_TIMEOUT_SECONDS = 10
AUTH_LIMIT = 20  # unauthenticated connections at once
WRITE_TIMEOUT_MS = 1000  # how long Asterisk blocks on a slow reader before dropping events


def permitted_hosts(config: HotlineConfig) -> tuple[str, ...]:
    """Loopback, plus the AMI address and the API address when they are real host addresses.

    The service connects from the machine that runs its API: when the PBX is elsewhere,
    [api] bind names that machine's address.
    """
    hosts = list(LOOPBACK_ACLS)
    for value, what in ((config.ami.host, "[ami] host"), (config.api.bind, "[api] bind")):
        address = bind_ip(value, what)
        if not is_loopback(address) and not is_unspecified(address):
            hosts.append(host_acl(address))
    return tuple(dict.fromkeys(hosts))


def render_manager(config: HotlineConfig) -> bytes:
    general = section("general", [
        ("enabled", "yes"),
        ("webenabled", "no"),
        ("bindaddr", bind_ip(config.ami.host, "[ami] host")),
        ("port", config.ami.port),
        ("displayconnects", "yes"),
        # Every event carries "Timestamp: <epoch.micro>", Asterisk's own time of it: 质检 places
        # Hold/Unhold on a recording's timeline by it, not by when the service read the event.
        ("timestampevents", "yes"),
        ("allowmultiplelogin", "yes"),
        ("authtimeout", AUTH_TIMEOUT_SECONDS),
        ("authlimit", AUTH_LIMIT),
    ])
    user_options: list[tuple[str, str | int]] = [
        ("secret", config.ami.secret),
        ("deny", "0.0.0.0/0"),
        ("deny", "::/0"),
        *(("permit", acl) for acl in permitted_hosts(config)),
        ("read", ",".join(READ_CLASSES)),
        ("write", ",".join(WRITE_CLASSES)),
        ("writetimeout", WRITE_TIMEOUT_MS),
        *(("eventfilter", rule) for rule in EVENT_FILTERS),
    ]
    user = section(config.ami.username, user_options,
                   comment="The hotline service's AMI account (see ivr/manager.py for why "
                           "these classes).")
    return document("Asterisk Manager Interface for the hotline service.", [general, user])
