"""GET /metrics in the Prometheus text exposition format 0.0.4, written by hand (no client library).

Mounted at the root (/metrics, where Prometheus looks), guarded by a bearer token like the API
(Prometheus' scrape config has `authorization: {credentials: ...}`). Built from the same summary
as /api/status; metrics about the bridge are left out when the service runs without it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response

from hotline.api.deps import ReaderDep
from hotline.api.errors import ERROR_RESPONSES
from hotline.api.routes.status import current_status
from hotline.api.version import service_version
from hotline.status import HallStatus

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


def families(status: HallStatus, version: str) -> list[Family]:
    out = [
        Family(PREFIX + "info", "The service's version.", (({"version": version}, 1),)),
        *_single("bridge_running", "1 when the service runs the AMI bridge (the live hall metrics).",
                 status.bridge_running),
        *_single("ami_connected", "1 while the AMI connection to Asterisk is up.", status.ami_connected),
        *_single("pbx_uptime_seconds", "Seconds since Asterisk started.", status.pbx_uptime_seconds),
    ]
    if status.seats is not None:
        out.append(_by_label("seats", "Seats in each state.", "state", status.seats.by_state))
    if status.calls is not None:
        out += _single("calls_in_progress", "Calls in progress.", status.calls.in_progress)
        out += _single("three_way_calls_in_progress", "Three-way calls in progress.", status.calls.three_way)
    if status.queue is not None:
        out += _single("queue_waiting", "Callers waiting in the queue.", status.queue.waiting)
        out += _single("queue_longest_wait_seconds", "How long the longest-waiting caller has waited.",
                       status.queue.longest_wait_seconds or 0.0)
    today = status.today
    if today is not None:
        out += _single("calls_received_today", "Queue calls answered or abandoned since local midnight.",
                       today.received)
        out += _single("calls_answered_today", "Calls answered by a seat since local midnight.",
                       today.answered)
        out += _single("calls_abandoned_today", "Callers who hung up in the queue since local midnight.",
                       today.abandoned)
        out += _single("talk_seconds_today", "Talk time of today's answered calls.", today.talk_seconds)
        out += _single("answer_rate_ratio", "Answered / received today (absent before the first call).",
                       today.answer_rate)
        out += _single("service_level_ratio",
                       f"Answered within {today.service_level_seconds} s / received today "
                       "(absent before the first call).", today.service_level)
        out += _single("service_level_threshold_seconds", "The service level's answer threshold.",
                       today.service_level_seconds)
        out += _single("average_speed_of_answer_seconds", "Mean queue wait of today's answered calls.",
                       today.average_speed_of_answer_seconds)
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
