"""extensions.conf: the citizen's path through the hotline, rendered from hotline.conf.

12345 -> hotline-entry: answer, decide open/closed (hotline-hours), tell the service
(UserEvent HotlineRoute), greet; open -> hotline-open: optional 工号 entry, the queue, the
overflow offer; closed or overflow -> hotline-voicemail: metadata file, beep, Record.
Queue members are Local/<seat_id>@hotline-seat, which dials the seat's phone and announces
the operator's 工号 to the caller when the seat answers.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from hotline.config.model import Seat
from ivr.callback_plan import callback_contexts
from ivr.extensions import Context
from ivr.hours import hours_contexts
from ivr.names import (
    CITIZENS_CONTEXT,
    ENTRY_CONTEXT,
    ENTRY_NUMBER,
    EVENT_NAMED_SEAT,
    EVENT_QUEUE_EXIT,
    EVENT_ROUTE,
    EXPERTS_CONTEXT,
    HOURS_CONTEXT,
    LANGUAGE,
    NAMED_SEAT_CONTEXT,
    OPEN_CONTEXT,
    PROMPT_GREETING,
    PROMPT_NAMED_OPERATOR,
    PROMPT_OVERFLOW,
    PROMPT_RECORDING_NOTICE,
    QUEUE_LOG_LINKEDID,
    ROUTE_AFTER_HOURS,
    ROUTE_OVERFLOW,
    SEAT_CONTEXT,
    SEATS_CONTEXT,
    TRUNK_IN_CONTEXT,
    VOICEMAIL_CONTEXT,
    member_interface,
    operator_prompt,
    sound,
    state_interface,
)
from ivr.output import conf_header
from ivr.outside import OUTSIDE_PATTERNS, trunk_dial
from ivr.recording_plan import record_option, recording_contexts
from ivr.threeway import threeway_contexts
from ivr.voicemail_plan import voicemail_contexts

NAMED_SEAT_TIMEOUT_SECONDS = 1.5  # wait for a 工号 after the prompt before queueing (Read takes
# fractions); the caller may key it from the greeting's first syllable on, so a short wait suffices
OVERFLOW_CHOICE_TIMEOUT_SECONDS = 5
REQUEUE_POSITION = 1  # a caller who chose to keep waiting goes back to the head of the queue
INTERNAL_RING_SECONDS = 30
OUTSIDE_RING_SECONDS = 60
LOCAL_INCLUDE = "extensions_local.conf"  # optional, not rendered: site or test contexts


def daytime_entry_prompts(config: HotlineConfig) -> tuple[str, ...]:
    """What a daytime caller hears, in order, before the queue rings a seat: one Read, so a
    caller who knows the 工号 keys it from the greeting on; the recording notice when calls are
    recorded (the caller must hear it before a seat answers)."""
    notice = (PROMPT_RECORDING_NOTICE,) if config.recording.enabled else ()
    return (PROMPT_GREETING, *notice, PROMPT_NAMED_OPERATOR)


def daytime_entry_seconds(config: HotlineConfig, prompt_seconds: dict[str, float]) -> float:
    """Answer to first ring on an open day: the entry prompts, then the wait for a 工号.

    `prompt_seconds` maps prompt names to the rendered files' lengths; issue 13 asks for < 8 s."""
    return (sum(prompt_seconds[name] for name in daytime_entry_prompts(config))
            + NAMED_SEAT_TIMEOUT_SECONDS)


def entry_contexts(config: HotlineConfig) -> list[Context]:
    entry = Context(ENTRY_CONTEXT, comment=(
        "A citizen's call. HOTLINE_NOW (epoch seconds, set only through AMI Originate by "
        "tests)\nreplaces the clock for the routing decision."))
    entry.exten(ENTRY_NUMBER, ["Goto(s,1)"])
    entry.exten("s", [
        "Answer()",
        f"Set(CHANNEL(language)={LANGUAGE})",
        "Set(HOTLINE_T=${FILTER(0-9,${HOTLINE_NOW})})",
        "Set(HOTLINE_NOW_FORCED=1)",
        'GotoIf($["${HOTLINE_T}" != ""]?clock)',
        "Set(HOTLINE_T=${EPOCH})",
        "Set(HOTLINE_NOW_FORCED=0)",
        ("clock", f"Gosub({HOURS_CONTEXT},s,1)"),
        "Set(HOTLINE_DECISION=${IF(${HOTLINE_OPEN}?open:closed)})",
        f"UserEvent({EVENT_ROUTE},Route: ${{HOTLINE_DECISION}},Reason: ${{HOTLINE_REASON}},"
        "Date: ${HOTLINE_DATE},Weekday: ${HOTLINE_WEEKDAY},Time: ${HOTLINE_HM},"
        "Epoch: ${HOTLINE_T},Forced: ${HOTLINE_NOW_FORCED})",
        f"GotoIf(${{HOTLINE_OPEN}}?{OPEN_CONTEXT},s,1)",
        f"Playback({sound(PROMPT_GREETING)})",
        f"Goto({VOICEMAIL_CONTEXT},{ROUTE_AFTER_HOURS},1)",
    ])
    citizens = Context(CITIZENS_CONTEXT, comment="Citizens' phones (tests) reach only the "
                                                 "hotline; every phone context includes it.")
    citizens.exten(ENTRY_NUMBER, [f"Goto({ENTRY_CONTEXT},{ENTRY_NUMBER},1)"])
    contexts = [entry, citizens]
    if config.trunk is not None:
        trunk_in = Context(TRUNK_IN_CONTEXT, comment="Calls from the trunk, whatever number "
                                                     "they dialled, are hotline calls.")
        trunk_in.exten("_X.", [f"Goto({ENTRY_CONTEXT},s,1)"])
        trunk_in.exten("s", [f"Goto({ENTRY_CONTEXT},s,1)"])
        contexts.append(trunk_in)
    return contexts


def _seat_aliases(seat: Seat) -> list[str]:
    """Keys that select a seat: its 工号, and without leading zeros ("7" for "07")."""
    short = str(int(seat.seat_id))
    return [seat.seat_id] if short == seat.seat_id else [seat.seat_id, short]


def open_contexts(config: HotlineConfig) -> list[Context]:
    """Open hours: the entry with its 工号 prompt and queue, the named seats, the members."""
    return [_opened_context(config), _named_seat_context(config), _seat_member_context(config)]


def _opened_context(config: HotlineConfig) -> Context:
    """Greeting and 工号 in one Read, then the queue, its overflow offer or voicemail."""
    queue = config.queue
    longest_id = max((len(s.seat_id) for s in config.seats), default=2)
    timeout = str(queue.overflow_seconds) if queue.overflow_seconds > 0 else ""
    queue_call = f"Queue({queue.name},r,,,{timeout})".replace(",,,)", ")")
    requeue = f"Queue({queue.name},r,,,{timeout},,,,{REQUEUE_POSITION})"
    opened = Context(OPEN_CONTEXT, comment=(
        "Open: greeting and 工号 prompt in one Read, so a caller who knows the 工号 keys it "
        "during the greeting;\nelse the queue after a short wait. After "
        f"{queue.overflow_seconds or 'no'} s\nwaiting they are offered voicemail "
        "(1) or more waiting (any other key)."))
    opened.exten("s", [
        f"Read(HOTLINE_KEYED,{'&'.join(sound(name) for name in daytime_entry_prompts(config))},"
        f"{longest_id},,1,"
        f"{NAMED_SEAT_TIMEOUT_SECONDS})",
        "Set(HOTLINE_KEYED=${FILTER(0-9,${HOTLINE_KEYED})})",
        'GotoIf($["${HOTLINE_KEYED}" = ""]?queue,1)',
        f"GotoIf(${{DIALPLAN_EXISTS({NAMED_SEAT_CONTEXT},${{HOTLINE_KEYED}},1)}}?"
        f"{NAMED_SEAT_CONTEXT},${{HOTLINE_KEYED}},1)",
        f"UserEvent({EVENT_NAMED_SEAT},Seat: ${{HOTLINE_KEYED}},Result: unknown)",
        "Goto(queue,1)",
    ])
    opened.exten("queue", [
        f"QueueLog({queue.name},${{UNIQUEID}},NONE,{QUEUE_LOG_LINKEDID},${{CHANNEL(linkedid)}})",
        queue_call,
        ("exit", f"UserEvent({EVENT_QUEUE_EXIT},Status: ${{QUEUESTATUS}})"),
        'GotoIf($["${QUEUESTATUS}" = "TIMEOUT"]?overflow,1)',
        f"Goto({VOICEMAIL_CONTEXT},{ROUTE_OVERFLOW},1)",
    ], comment="Any way out of the queue but an answered call ends in the overflow "
               "offer or voicemail, never in silence.")
    opened.exten("overflow", [
        f"Read(HOTLINE_CHOICE,{sound(PROMPT_OVERFLOW)},1,,1,{OVERFLOW_CHOICE_TIMEOUT_SECONDS})",
        f'GotoIf($["${{HOTLINE_CHOICE}}" = "1"]?{VOICEMAIL_CONTEXT},{ROUTE_OVERFLOW},1)',
        requeue,
        "Goto(queue,exit)",
    ])
    return opened


def _named_seat_context(config: HotlineConfig) -> Context:
    """One extension per 工号 (and its aliases), checked free before it is rung."""
    queue = config.queue
    named = Context(NAMED_SEAT_CONTEXT, comment=(
        "The caller keyed a 工号: ring that operator directly if logged in, not paused and "
        "free;\notherwise (or unanswered) the queue."))
    for seat in sorted(config.seats, key=lambda s: s.seat_id):
        aliases = _seat_aliases(seat)
        named.exten(seat.seat_id, [
            f"Set(HOTLINE_SEAT={seat.seat_id})",
            f"Set(HOTLINE_SEAT_DEVICE={state_interface(seat.extension)})",
            "Goto(check,1)",
        ])
        for alias in aliases[1:]:
            named.exten(alias, [f"Goto({seat.seat_id},1)"])
    member = f"Local/${{HOTLINE_SEAT}}@{SEAT_CONTEXT}"
    named.exten("check", [
        f"Set(HOTLINE_MEMBERS=${{QUEUE_MEMBER_LIST({queue.name})}})",
        f"GotoIf($[${{FIELDNUM(HOTLINE_MEMBERS,\\,,{member})}} = 0]?unavailable,1)",
        f"GotoIf($[${{QUEUE_MEMBER({queue.name},paused,{member})}} != 0]?unavailable,1)",
        'GotoIf($["${DEVICE_STATE(${HOTLINE_SEAT_DEVICE})}" != "NOT_INUSE"]?unavailable,1)',
        f"UserEvent({EVENT_NAMED_SEAT},Seat: ${{HOTLINE_SEAT}},Result: dialling)",
        f"Dial({member},{queue.ring_timeout})",
        f"UserEvent({EVENT_NAMED_SEAT},Seat: ${{HOTLINE_SEAT}},Result: ${{DIALSTATUS}})",
        f"Goto({OPEN_CONTEXT},queue,1)",
    ])
    named.exten("unavailable", [
        f"UserEvent({EVENT_NAMED_SEAT},Seat: ${{HOTLINE_SEAT}},Result: unavailable)",
        f"Goto({OPEN_CONTEXT},queue,1)",
    ])
    return named


def _seat_member_context(config: HotlineConfig) -> Context:
    """The queue members Local/<工号>@hotline-seat, ringing each seat's phone."""
    seats = Context(SEAT_CONTEXT, comment=(
        "Queue members Local/<工号>@hotline-seat: ring the seat's phone; on answer, answer "
        "the\nqueue's leg at once (a) and play the 工号 announcement to the caller (A(:file))."))
    for seat in sorted(config.seats, key=lambda s: s.seat_id):
        assert member_interface(seat.seat_id) == f"Local/{seat.seat_id}@{SEAT_CONTEXT}"
        record = record_option(seat.seat_id) if config.recording.enabled else ""
        seats.exten(seat.seat_id, [
            f"Dial({state_interface(seat.extension)},,aA(:{sound(operator_prompt(seat.seat_id))}){record})",
            "Hangup()",
        ])
    return seats


def phone_contexts(config: HotlineConfig) -> list[Context]:
    """What seat and expert phones may dial: 12345, each other, outside numbers via trunk."""
    seats = Context(SEATS_CONTEXT, includes=[CITIZENS_CONTEXT], comment="Seat phones.")
    experts = Context(EXPERTS_CONTEXT, includes=[CITIZENS_CONTEXT], comment="Expert phones.")
    phones = sorted([s.extension for s in config.seats]
                    + [e.extension for e in config.experts if e.extension])
    for extension in phones:
        step = f"Dial({state_interface(extension)},{INTERNAL_RING_SECONDS})"
        seats.exten(extension, [step])
        experts.exten(extension, [step])
    if config.trunk is not None:
        for pattern in OUTSIDE_PATTERNS:
            seats.exten(pattern, [f"Dial({trunk_dial(config, '${EXTEN}')},"
                                  f"{OUTSIDE_RING_SECONDS})"])
    return [seats, experts]


def render_dialplan(config: HotlineConfig) -> bytes:
    general = "[general]\nstatic=yes\nwriteprotect=yes\nclearglobalvars=yes\n"
    contexts = [
        *entry_contexts(config),
        *hours_contexts(config),
        *open_contexts(config),
        *voicemail_contexts(config),
        *phone_contexts(config),
        *threeway_contexts(config),
        *callback_contexts(config),
        *recording_contexts(config),
    ]
    parts = [conf_header() + "; Dialplan of the 12345 hotline.\n", general, "[globals]\n",
             *(c.text() for c in contexts),
             f"; Site or test additions (not rendered), if the file exists.\n"
             f"#tryinclude {LOCAL_INCLUDE}\n"]
    return "\n".join(parts).encode("utf-8")
