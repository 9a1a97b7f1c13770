"""GET /metrics in the Prometheus text exposition format 0.0.4, written by hand (no client library).

Mounted at the root (/metrics, where Prometheus looks), guarded by a bearer token like the API
(Prometheus' scrape config has `authorization: {credentials: ...}`). Built from the same summary
as /api/status; metrics about the bridge are left out when the service runs without it. Each
hall's (one per PBX) carry a `hall` label; the total over halls is the sum (README, "Prometheus").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response

from hotline.api.deps import ReaderDep
from hotline.api.errors import ERROR_RESPONSES
from hotline.api.routes.status import current_status
from hotline.api.version import service_version
from hotline.status import HallPart, HallStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
GAUGE = "gauge"
PREFIX = "hotline_"

router = APIRouter(tags=["metrics"])

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Family:
    """One metric: its HELP and TYPE lines, then one sample per label set."""

    name: str
    help: str
    samples: Sequence[tuple[Labels, float]] = field(default_factory=tuple)
    type: str = GAUGE


def escape_label_value(value: str) -> str:
    r"""Backslash, double quote and line feed are written \\, \" and \n."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def render(families: Sequence[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}")
        lines.append(f"# TYPE {family.name} {family.type}")
        for labels, value in family.samples:
            label_text = ",".join(f'{key}="{escape_label_value(str(v))}"' for key, v in labels.items())
            braces = f"{{{label_text}}}" if label_text else ""
            lines.append(f"{family.name}{braces} {format_value(value)}")
    return "\n".join(lines) + "\n"


def _single(name: str, help_text: str, value: float | None) -> list[Family]:
    """A family with one unlabelled sample, or nothing when the value is unknown."""
    return [] if value is None else [Family(PREFIX + name, help_text, (({}, value),))]


def _by_label(name: str, help_text: str, label: str, counts: Mapping[str, int]) -> Family:
    return Family(PREFIX + name, help_text, tuple(({label: key}, n) for key, n in counts.items()))


# Each hall's live figures: (name, help, the value in one hall's part; None leaves the hall out).
# One series per PBX, labelled `hall`; no unlabelled total beside them (a sum over the family
# would count it twice): the total is `sum without (hall) (...)`, see README "Prometheus".
HALL_LABEL = "hall"
HALL_FIGURES: tuple[tuple[str, str, Callable[[HallPart], float | None]], ...] = (
    ("ami_connected", "1 while the AMI connection to this hall's Asterisk is up.", lambda p: p.ami_connected),
    ("pbx_uptime_seconds", "Seconds since this hall's Asterisk started.", lambda p: p.pbx_uptime_seconds),
    ("calls_in_progress", "Calls in progress.", lambda p: p.calls.in_progress),
    ("three_way_calls_in_progress", "Three-way calls in progress.", lambda p: p.calls.three_way),
    ("queue_waiting", "Callers waiting in the queue.", lambda p: p.queue.waiting),
    ("queue_longest_wait_seconds", "How long the longest-waiting caller has waited.",
     lambda p: p.queue.longest_wait_seconds or 0.0),
    ("calls_received_today", "Queue calls answered or abandoned since local midnight.",
     lambda p: p.today.received),
    ("calls_answered_today", "Calls answered by a seat since local midnight.", lambda p: p.today.answered),
    ("calls_answered_within_service_level_today",
     "Calls answered within the service level's threshold since local midnight.",
     lambda p: p.today.answered_within_sl),
    ("calls_abandoned_today", "Callers who hung up in the queue since local midnight.",
     lambda p: p.today.abandoned),
    ("talk_seconds_today", "Talk time of today's answered calls.", lambda p: p.today.talk_seconds),
    ("answer_rate_ratio", "Answered / received today (absent before the first call).",
     lambda p: p.today.answer_rate),
    ("service_level_ratio", "Answered within hotline_service_level_threshold_seconds / received today "
                            "(absent before the first call).", lambda p: p.today.service_level),
    ("service_level_threshold_seconds", "The service level's answer threshold.",
     lambda p: p.today.service_level_seconds),
    ("average_speed_of_answer_seconds", "Mean queue wait of today's answered calls.",
     lambda p: p.today.average_speed_of_answer_seconds),
)


def _per_hall(name: str, help_text: str, parts: Sequence[HallPart],
              value: Callable[[HallPart], float | None]) -> list[Family]:
    """One sample per hall whose value is known; nothing when no hall's is."""
    samples = tuple(({HALL_LABEL: part.name}, known) for part in parts
                    if (known := value(part)) is not None)
    return [Family(PREFIX + name, help_text, samples)] if samples else []


def hall_families(parts: Sequence[HallPart]) -> list[Family]:
    """Every hall's live metrics, each series labelled with its PBX's name."""
    out = [Family(PREFIX + "hall_info", "Each hall (PBX) and its display name.",
                  tuple(({HALL_LABEL: p.name, "name": p.display_name}, 1) for p in parts)),
           Family(PREFIX + "seats", "Seats in each state.",
                  tuple(({HALL_LABEL: p.name, "state": state}, n)
                        for p in parts for state, n in p.seats.by_state.items()))]
    for name, help_text, value in HALL_FIGURES:
        out += _per_hall(name, help_text, parts, value)
    return out


def families(status: HallStatus, version: str) -> list[Family]:
    """The service's metrics; the halls' only while it runs the AMI bridge (then the AMI link's
    state is each hall's, otherwise the one unlabelled link state it knows)."""
    out = [
        Family(PREFIX + "info", "The service's version.", (({"version": version}, 1),)),
        *_single("bridge_running", "1 when the service runs the AMI bridge (the live hall metrics).",
                 status.bridge_running),
    ]
    if status.halls:
        out += hall_families(status.halls)
    else:
        out += _single("ami_connected", "1 while the AMI connection to Asterisk is up.", status.ami_connected)
        out += _single("pbx_uptime_seconds", "Seconds since Asterisk started.", status.pbx_uptime_seconds)
    out.append(_by_label("voicemails", "Voicemails in each state.", "state", status.voicemails_by_state))
    out.append(_by_label("callbacks", "Callbacks in each state.", "state", status.callbacks_by_state))
    return out


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            description="Role: monitor, operator or admin (bearer token; Prometheus: `authorization: "
                        "{credentials: TOKEN}`). The text exposition format 0.0.4; the hall's metrics "
                        "are absent when the service runs without the AMI bridge.",
            # Errors are listed here too (JSON), as this router is mounted outside /api.
            responses={**ERROR_RESPONSES, 200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(request: Request, _principal: ReaderDep) -> Response:
    status = await current_status(request)
    return Response(render(families(status, service_version())), media_type=CONTENT_TYPE)
