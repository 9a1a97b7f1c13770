"""confbridge.conf: quiet profiles for three-way calls (citizen, operator, expert).

A hotline three-way call is a consultation, not a meeting: no join/leave sounds, no
"you are the only person" prompts, no music, and silence dropped from the mix.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import Option, document, section
from ivr.names import (
    CONFERENCE_BRIDGE_PROFILE,
    CONFERENCE_MENU,
    CONFERENCE_OPERATOR_PROFILE,
    CONFERENCE_USER_PROFILE,
)

MAX_MEMBERS = 4  # citizen, operator, expert, and one more expert or a supervisor
QUIET_USER: tuple[Option, ...] = (
    ("type", "user"),
    ("quiet", "yes"),
    ("announce_user_count", "no"),
    ("announce_user_count_all", "no"),
    ("announce_only_user", "no"),
    ("announce_join_leave", "no"),
    ("music_on_hold_when_empty", "no"),
    ("dsp_drop_silence", "yes"),
    ("dtmf_passthrough", "no"),
)


def render_confbridge(config: HotlineConfig) -> bytes:
    bridge = section(CONFERENCE_BRIDGE_PROFILE, [
        ("type", "bridge"),
        ("max_members", MAX_MEMBERS),
        ("record_conference", "no"),
        ("mixing_interval", 20),
        ("internal_sample_rate", "auto"),
    ])
    user = section(CONFERENCE_USER_PROFILE, list(QUIET_USER),
                   comment="Citizen and expert.")
    operator = section(CONFERENCE_OPERATOR_PROFILE, [*QUIET_USER, ("admin", "yes"),
                                                     ("marked", "yes")],
                       comment="The operator: admin of the room (may kick).")
    menu = section(CONFERENCE_MENU, [("type", "menu")],
                   comment="No DTMF actions: digits must not trigger conference prompts.")
    return document(f"Three-way calls of {config.hall.name}.", [bridge, user, operator, menu])
