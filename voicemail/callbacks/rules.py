"""The callback queue's rules, free of I/O: priorities, outcomes, retries and claim expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.config.model import CallbacksConfig

EXCERPT_CHARS = 200  # what the queue shows of a transcript; the full text stays on the voicemail


class Priority(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"


# The queue orders on the rank: urgent messages first, then by the time they were left.
PRIORITY_RANK: dict[Priority, int] = {Priority.URGENT: 0, Priority.NORMAL: 1}


class State(StrEnum):
    QUEUED = "queued"  # waiting for someone (maybe not before due_at)
    CLAIMED = "claimed"  # one staff member holds it until claim_expires_at
    CLOSED = "closed"  # done; `resolution` says how


class Outcome(StrEnum):
    REACHED_RESOLVED = "reached_resolved"
    REACHED_TRANSFERRED = "reached_transferred"  # 转办: handed to a department
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"


class Resolution(StrEnum):
    RESOLVED = "resolved"
    TRANSFERRED = "transferred"
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"  # every allowed attempt went unanswered or busy
    WITHDRAWN = "withdrawn"  # the message turned out not to need a call (duplicate, overridden)


RETRIED: frozenset[Outcome] = frozenset({Outcome.NO_ANSWER, Outcome.BUSY})
FINAL: dict[Outcome, Resolution] = {
    Outcome.REACHED_RESOLVED: Resolution.RESOLVED,
    Outcome.REACHED_TRANSFERRED: Resolution.TRANSFERRED,
    Outcome.WRONG_NUMBER: Resolution.WRONG_NUMBER,
    Outcome.DECLINED: Resolution.DECLINED,
}


@dataclass(frozen=True)
class Decision:
    """Where a callback goes after an outcome: back to the queue (due later) or closed."""

    state: State
    resolution: Resolution | None
    due_at: datetime | None


def after_outcome(outcome: Outcome, attempts_made: int, settings: CallbacksConfig,
                  now: datetime) -> Decision:
    """`attempts_made` counts the attempt just recorded."""
    if outcome in RETRIED:
        if attempts_made >= settings.max_attempts:
            return Decision(State.CLOSED, Resolution.UNREACHABLE, None)
        return Decision(State.QUEUED, None, now + timedelta(minutes=settings.retry_minutes))
    return Decision(State.CLOSED, FINAL[outcome], None)


def claim_expiry(now: datetime, settings: CallbacksConfig) -> datetime:
    return now + timedelta(minutes=settings.claim_minutes)


def excerpt(transcript: str | None) -> str | None:
    """The first EXCERPT_CHARS characters, marked when cut."""
    if not transcript:
        return None
    text = " ".join(transcript.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"
