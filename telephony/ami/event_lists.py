"""Which AMI actions answer with a list of events, and which event closes each list.

An explicit table instead of guessing from "will follow" texts or names ending in
"Complete": a wrong guess either cuts a snapshot short or hangs an action until it times
out. Names checked against Asterisk 22 traffic (CoreShowChannels, QueueStatus, QueueSummary,
VoicemailUsersList, ConfbridgeList, ConfbridgeListRooms, BridgeList, BridgeInfo; the
recordings in tests/ami_captures/ hold the first, second, fifth and seventh) and the
Asterisk 22 AMI documentation (the rest).

Not in the table on purpose: QueueRule answers with one Response carrying repeated
RuleList/Rule headers (and an extra blank line), not with an event list.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

LIST_COMPLETE_EVENTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "QueueStatus": "QueueStatusComplete",
        "QueueSummary": "QueueSummaryComplete",
        "CoreShowChannels": "CoreShowChannelsComplete",
        "DeviceStateList": "DeviceStateListComplete",
        "ExtensionStateList": "ExtensionStateListComplete",
        "PresenceStateList": "PresenceStateListComplete",
        "PJSIPShowContacts": "ContactListComplete",
        "PJSIPShowEndpoints": "EndpointListComplete",
        "PJSIPShowEndpoint": "EndpointDetailComplete",
        "PJSIPShowAors": "AorListComplete",
        "PJSIPShowRegistrationInboundContactStatuses": "ContactStatusDetailComplete",
        "BridgeList": "BridgeListComplete",
        "BridgeInfo": "BridgeInfoComplete",
        "ConfbridgeList": "ConfbridgeListComplete",
        "ConfbridgeListRooms": "ConfbridgeListRoomsComplete",
        "Status": "StatusComplete",
        "VoicemailUsersList": "VoicemailUserEntryComplete",
    }
)
"""Action name -> name of the event that ends its list (as Asterisk spells them)."""

LIST_START: Final = "start"
LIST_COMPLETE: Final = "complete"
EVENT_LIST_HEADER: Final = "EventList"

_BY_FOLDED_NAME: Final = {name.lower(): done for name, done in LIST_COMPLETE_EVENTS.items()}


def complete_event_for(action_name: str) -> str | None:
    """The event closing ``action_name``'s list, or None if it is a single-response action."""
    return _BY_FOLDED_NAME.get(action_name.lower())
