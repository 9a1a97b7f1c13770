"""Names shared by the rendered files and the service: contexts, sounds, queue interfaces.

One home for them so the dialplan, queues.conf and the service's QueueAdd can never drift.
"""

from __future__ import annotations

ENTRY_NUMBER = "12345"
QUEUE_LOG_LINKEDID = "HOTLINEID"
"""The dialplan's own queue_log line before Queue(): data1 is the caller's Linkedid, so a call in
Asterisk's queue_log carries the live records' key (telephony/queue_log.py)."""

# Dialplan contexts.
ENTRY_CONTEXT = "hotline-entry"  # a citizen's call starts here
CITIZENS_CONTEXT = "hotline-citizens"  # endpoints of citizens (tests): only 12345
SEATS_CONTEXT = "hotline-seats"  # what seat phones may dial
EXPERTS_CONTEXT = "hotline-experts"  # what expert phones may dial
TRUNK_IN_CONTEXT = "hotline-trunk-in"  # calls arriving from the trunk
HOURS_CONTEXT = "hotline-hours"  # Gosub: is the hall open now?
HOLIDAYS_CONTEXT = "hotline-holidays"  # one extension per holiday, YYYYMMDD
WORKDAYS_CONTEXT = "hotline-workdays"  # one extension per 调休 working day, YYYYMMDD
OPEN_CONTEXT = "hotline-open"  # 工号 entry, queue, overflow
NAMED_SEAT_CONTEXT = "hotline-named-seat"  # the caller keyed a 工号
SEAT_CONTEXT = "hotline-seat"  # queue members: Local/<seat_id>@hotline-seat
VOICEMAIL_CONTEXT = "hotline-voicemail"  # after_hours / overflow recordings
VOICEMAIL_META_CONTEXT = "hotline-voicemail-meta"  # Gosub writing the metadata's first lines
VOICEMAIL_DONE_CONTEXT = "hotline-voicemail-done"  # hangup handler closing the metadata
EXPERT_CONTEXT = "hotline-expert"  # Local/<extension or number>@hotline-expert
WHISPER_CONTEXT = "hotline-whisper"  # Gosub on the expert's answer
THREEWAY_CONTEXT = "hotline-threeway"  # ConfBridge room <exten>, citizen/expert profile
THREEWAY_OPERATOR_CONTEXT = "hotline-threeway-operator"  # same room, operator profile
BRIDGE_JOIN_CONTEXT = "hotline-bridge-join"  # BridgeAdd onto ${HOTLINE_JOIN_CHANNEL}'s bridge
RECORD_CONTEXT = "hotline-record"  # Gosub on the seat phone's answer (Dial U()): two-track MixMonitor
RECORD_DONE_CONTEXT = "hotline-record-done"  # hangup handler of the seat phone's channel
CALLBACK_CONTEXT = "hotline-callback"  # <number>: a staff seat, once answered, calls a citizen
CALLBACK_ID_VARIABLE = "HOTLINE_CALLBACK_ID"  # set by the service's Originate, logged by the plan

LANGUAGE = "zh"  # prompts are Mandarin; channels are set to it

# confbridge.conf profiles (used by the three-way contexts).
CONFERENCE_BRIDGE_PROFILE = "hotline_bridge"
CONFERENCE_USER_PROFILE = "hotline_user"
CONFERENCE_OPERATOR_PROFILE = "hotline_operator"
CONFERENCE_MENU = "hotline_menu"

# Voicemail routes, as written in the metadata and the HotlineVoicemail event.
ROUTE_AFTER_HOURS = "after_hours"
ROUTE_OVERFLOW = "overflow"

# PJSIP objects.
TRANSPORT_NAME = "hotline-udp"
TRUNK_NAME = "hotline-trunk"

# Sounds, relative to Asterisk's sounds directory (no extension, as Playback wants them).
SOUND_DIR = "hotline"
PROMPT_GREETING = "greeting"
PROMPT_AFTER_HOURS = "after-hours"
PROMPT_OVERFLOW = "overflow"
PROMPT_NAMED_OPERATOR = "named-operator"
PROMPT_THREEWAY_WHISPER = "threeway-whisper"
PROMPT_BEEP = "beep"
PROMPT_RECORDING_NOTICE = "recording-notice"
PROMPT_OPERATOR_PREFIX = "operator-"

# User events published by the dialplan (AMI class "user").
EVENT_ROUTE = "HotlineRoute"
EVENT_VOICEMAIL = "HotlineVoicemail"
EVENT_NAMED_SEAT = "HotlineNamedSeat"
EVENT_QUEUE_EXIT = "HotlineQueueExit"
EVENT_RECORDING = "HotlineRecording"

# Channel variable the tests (and only they) set through Originate to force the clock.
FORCED_NOW_VARIABLE = "HOTLINE_NOW"


def sound(name: str) -> str:
    """Playback name of one of our prompts."""
    return f"{SOUND_DIR}/{name}"


def operator_prompt(seat_id: str) -> str:
    """Prompt name of the 'XX号工作人员为您服务' announcement for a seat."""
    return f"{PROMPT_OPERATOR_PREFIX}{seat_id}"


def member_interface(seat_id: str) -> str:
    """Queue member interface the service adds with QueueAdd for a seat."""
    return f"Local/{seat_id}@{SEAT_CONTEXT}"


def state_interface(extension: str) -> str:
    """Device whose state tells the queue whether the seat's phone is free."""
    return f"PJSIP/{extension}"
