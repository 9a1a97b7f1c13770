"""Asterisk Manager Interface (AMI) client of the hotline bridge.

Why our own module rather than panoramisk 1.4 (the asyncio library we measured):

* it decodes every TCP chunk with ``errors='ignore'`` *before* framing, so a UTF-8
  character split across two reads vanishes ("张三丰" fed byte by byte arrives empty):
  we frame on bytes and decode whole messages;
* actions have no timeout: a lost answer hangs the caller forever;
* it guesses where event lists end (texts like "will follow", names ending in "Complete"):
  we use an explicit table of list actions and their closing events;
* after a reconnect it re-sends actions that were pending, so an Originate or QueueAdd may
  run twice: we fail them with AmiNotConnected and let the caller decide;
* it has no resync: after a reconnect (or lost events) the call-centre picture stays
  stale. We run login hooks (snapshots) before delivering later events, in order, from one
  bounded queue that never blocks the reader.

The core stays small: message.py (values), framing.py (bytes -> messages),
event_lists.py (list table), correlation.py (ActionID bookkeeping), client.py (I/O).
"""

from .client import AmiClient, AmiState, AmiStats, Listener, LoginHook, StateListener
from .correlation import Response
from .errors import AmiActionError, AmiError, AmiLoginError, AmiNotConnected, AmiTimeout
from .event_lists import LIST_COMPLETE_EVENTS, complete_event_for
from .framing import DEFAULT_MAX_FRAME_BYTES, AmiFramer, FramerStats, parse_frame
from .message import Action, Message
from .settings import DEFAULT_EVENTS_MASK, AmiSettings

__all__ = [
    "DEFAULT_EVENTS_MASK",
    "DEFAULT_MAX_FRAME_BYTES",
    "LIST_COMPLETE_EVENTS",
    "Action",
    "AmiActionError",
    "AmiClient",
    "AmiError",
    "AmiFramer",
    "AmiLoginError",
    "AmiNotConnected",
    "AmiSettings",
    "AmiState",
    "AmiStats",
    "AmiTimeout",
    "FramerStats",
    "Listener",
    "LoginHook",
    "Message",
    "Response",
    "StateListener",
    "complete_event_for",
    "parse_frame",
]
