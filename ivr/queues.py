"""queues.conf: the hall's one queue; members are added at run time by the service.

Members are `Local/<seat_id>@hotline-seat` (StateInterface `PJSIP/<extension>`, MemberName
<seat_id>), so the seat context can announce the operator's 工号 to the caller on answer.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section

RETRY_SECONDS = 2  # pause after a ring round before trying members again


def render_queues(config: HotlineConfig) -> bytes:
    queue = config.queue
    general = section("general", [
        # Asterisk keeps who is logged in (and paused, with the reason) across its own restart,
        # so operators stay at work through a PBX restart; the bridge rebuilds its picture
        # from QueueStatus afterwards, as after any reconnect.
        ("persistentmembers", "yes"),
        ("autofill", "yes"),
        ("shared_lastcall", "yes"),
        ("log_membername_as_agent", "yes"),
    ])
    options: list[tuple[str, str | int]] = [
        ("strategy", queue.strategy),
        ("timeout", queue.ring_timeout),
        ("retry", RETRY_SECONDS),
        ("timeoutpriority", "app"),  # Queue()'s overflow timeout cuts a ring round short
        ("wrapuptime", queue.wrapup_seconds),
        ("servicelevel", queue.service_level_seconds),
        ("ringinuse", "no"),  # a seat on a call (any call) is not offered another
        ("memberdelay", 0),
        ("autofill", "yes"),
        # Callers wait even when nobody is logged in; the overflow timeout takes them to
        # voicemail instead.
        ("joinempty", "yes"),
        ("leavewhenempty", "no"),
        # Position announcements need English number prompts Chinese callers would not
        # understand; the overflow offer is the wait feedback instead.
        ("announce-frequency", 0),
        ("announce-position", "no"),
        ("announce-holdtime", "no"),
        ("periodic-announce-frequency", 0),
        ("reportholdtime", "no"),
        ("setinterfacevar", "yes"),
        ("setqueueentryvar", "yes"),
        ("setqueuevar", "yes"),
    ]
    return document("Call queue of the hall (members: QueueAdd by the hotline service).",
                    [general, section(queue.name, options)])
