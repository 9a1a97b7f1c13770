"""The hall's key figures, each defined once: today's live counters
(telephony/live_counters.py) and the range report (hotline/reports/figures.py) both call these,
so a wallboard and a report over the same calls show the same numbers.

Pure arithmetic over counts; what is counted (GB/T 33358-2016 asks for answer within 15 s and
a connection rate of 95 %):

- received: queue calls with an outcome, answered from the queue or abandoned in it. A caller
  who left the queue for voicemail is neither (the voicemail figures count them), and a caller
  still waiting is not received yet (the queue figure shows them);
- answered within the service level: a recorded queue wait (HoldTime) of 0..N seconds;
- answer rate = answered / received; abandon rate = abandoned / received;
- service level = answered within N s / received;
- average speed of answer = mean queue wait of the answered calls that recorded a wait.
Each rate is None while nothing was received (no call is not a 0 % day).
"""

from __future__ import annotations

from typing import Final

DEFAULT_SERVICE_LEVEL_SECONDS: Final = 15


def received(answered: int, abandoned: int) -> int:
    """Calls the queue received: answered from it plus abandoned in it."""
    return answered + abandoned


def answered_within(wait_seconds: int | None, threshold: int) -> bool:
    """Whether an answered call's queue wait counts inside the service level."""
    return wait_seconds is not None and 0 <= wait_seconds <= threshold


def answer_rate(answered: int, received_calls: int) -> float | None:
    """Answered / received (the standard's connection rate)."""
    return answered / received_calls if received_calls else None


def abandon_rate(abandoned: int, received_calls: int) -> float | None:
    """Abandoned in the queue / received."""
    return abandoned / received_calls if received_calls else None


def service_level(answered_within_sl: int, received_calls: int) -> float | None:
    """Answered within the threshold / received."""
    return answered_within_sl / received_calls if received_calls else None


def average_speed_of_answer(wait_seconds: int, waits_counted: int) -> float | None:
    """Mean queue wait of the answered calls that recorded one, in seconds."""
    return wait_seconds / waits_counted if waits_counted else None


class CallRates:
    """The four rates over a figure's counts, for any frozen dataclass that has `received`,
    `answered`, `abandoned`, `answered_within_sl`, `wait_seconds` and `waits_counted`: the live
    counters and the range report share these properties instead of each spelling them out."""

    __slots__ = ()
    received: int
    answered: int
    abandoned: int
    answered_within_sl: int
    wait_seconds: int
    waits_counted: int

    @property
    def answer_rate(self) -> float | None:
        return answer_rate(self.answered, self.received)

    @property
    def abandon_rate(self) -> float | None:
        return abandon_rate(self.abandoned, self.received)

    @property
    def service_level(self) -> float | None:
        return service_level(self.answered_within_sl, self.received)

    @property
    def average_speed_of_answer(self) -> float | None:
        return average_speed_of_answer(self.wait_seconds, self.waits_counted)
