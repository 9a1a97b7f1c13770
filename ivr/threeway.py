"""Three-way call support in the dialplan: experts with a whisper, conference rooms, BridgeAdd.

Rendered now for the three-way feature: Local/<extension or number>@hotline-expert rings an
expert who alone hears the whisper prompt on answer; hotline-threeway(-operator) put a channel
into a quiet ConfBridge room; hotline-bridge-join adds a channel to an existing call's bridge.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.extensions import Context
from ivr.names import (
    BRIDGE_JOIN_CONTEXT,
    CONFERENCE_BRIDGE_PROFILE,
    CONFERENCE_MENU,
    CONFERENCE_OPERATOR_PROFILE,
    CONFERENCE_USER_PROFILE,
    EXPERT_CONTEXT,
    PROMPT_THREEWAY_WHISPER,
    THREEWAY_CONTEXT,
    THREEWAY_OPERATOR_CONTEXT,
    WHISPER_CONTEXT,
    sound,
    state_interface,
)
from ivr.outside import OUTSIDE_PATTERNS, trunk_dial

EXPERT_RING_SECONDS = 30


def threeway_contexts(config: HotlineConfig) -> list[Context]:
    """Experts with the whisper, conference rooms and BridgeAdd for three-way calls."""
    whisper = f"U({WHISPER_CONTEXT}^s^1)"
    expert = Context(EXPERT_CONTEXT, comment=(
        "Local/<extension or number>@hotline-expert: ring an expert; on answer the expert "
        "alone\nhears the three-way whisper (U() Gosub on the called channel)."))
    for item in sorted(config.experts, key=lambda e: (e.extension or e.number or "")):
        label = f"{item.name} ({item.department})"
        if item.extension:
            expert.exten(item.extension, [
                f"Dial({state_interface(item.extension)},{EXPERT_RING_SECONDS},{whisper})",
                "Hangup()"], comment=label)
        elif item.number and config.trunk is not None:
            expert.exten(item.number, [
                f"Dial({trunk_dial(config, item.number)},{EXPERT_RING_SECONDS},{whisper})",
                "Hangup()"], comment=label)
        elif item.number:
            expert.exten(item.number, [
                f"Log(WARNING,expert {item.number} has an outside number but no [trunk] is "
                "configured)",
                "Hangup(3)"], comment=label)
    if config.trunk is not None:
        for pattern in OUTSIDE_PATTERNS:
            expert.exten(pattern, [
                f"Dial({trunk_dial(config, '${EXTEN}')},{EXPERT_RING_SECONDS},{whisper})",
                "Hangup()"])
    whisper_ctx = Context(WHISPER_CONTEXT, comment="Played to the expert only, before "
                                                   "they are connected.")
    whisper_ctx.exten("s", [f"Playback({sound(PROMPT_THREEWAY_WHISPER)})", "Return()"])
    rooms = Context(THREEWAY_CONTEXT, comment="ConfBridge room <exten> (digits, '.' allowed) "
                                              "for citizens and experts.")
    rooms.exten("_X.", [f"ConfBridge(${{EXTEN}},{CONFERENCE_BRIDGE_PROFILE},"
                        f"{CONFERENCE_USER_PROFILE},{CONFERENCE_MENU})", "Hangup()"])
    operator_rooms = Context(THREEWAY_OPERATOR_CONTEXT, comment="The same rooms, joined "
                                                                "as the operator.")
    operator_rooms.exten("_X.", [f"ConfBridge(${{EXTEN}},{CONFERENCE_BRIDGE_PROFILE},"
                                 f"{CONFERENCE_OPERATOR_PROFILE},{CONFERENCE_MENU})",
                                 "Hangup()"])
    join = Context(BRIDGE_JOIN_CONTEXT, comment=(
        "Originate into s with HOTLINE_JOIN_CHANNEL=<channel>: join the bridge that "
        "channel is in."))
    join.exten("s", [
        'GotoIf($["${HOTLINE_JOIN_CHANNEL}" = ""]?missing)',
        "BridgeAdd(${HOTLINE_JOIN_CHANNEL})",
        "Hangup()",
        ("missing", "Log(WARNING,hotline-bridge-join needs HOTLINE_JOIN_CHANNEL)"),
        "Hangup()",
    ])
    return [expert, whisper_ctx, rooms, operator_rooms, join]


