"""The callback context: a staff seat answered the service's Originate; now call the citizen.

The service originates PJSIP/<seat extension> into hotline-callback,<number>,1 with
HOTLINE_CALLBACK_ID set; the number goes out through the trunk with [trunk] prefix. Without a
trunk there is no outbound route: the plan says so in Asterisk's log and hangs up.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.extensions import Context
from ivr.names import CALLBACK_CONTEXT, CALLBACK_ID_VARIABLE, LANGUAGE
from ivr.outside import trunk_dial

CITIZEN_RING_SECONDS = 45  # a citizen called back gets this long to pick up
NO_ROUTE_HANGUP_CAUSE = 3  # "no route to destination"


def callback_contexts(config: HotlineConfig) -> list[Context]:
    callback = Context(CALLBACK_CONTEXT, comment=(
        "Callbacks (回访): the staff seat has answered; call the citizen at <exten>."))
    label = f"${{{CALLBACK_ID_VARIABLE}}}"
    if config.trunk is None:
        callback.exten("_X.", [
            f"Log(WARNING,callback {label} to ${{EXTEN}}: no [trunk] is configured, "
            "so there is no outbound route)",
            f"Hangup({NO_ROUTE_HANGUP_CAUSE})",
        ])
        return [callback]
    callback.exten("_X.", [
        f"Set(CHANNEL(language)={LANGUAGE})",
        f"Log(NOTICE,callback {label} to ${{EXTEN}} through the trunk)",
        f"Dial({trunk_dial(config, '${EXTEN}')},{CITIZEN_RING_SECONDS})",
        "Hangup()",
    ])
    return [callback]
