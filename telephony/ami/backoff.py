"""Exponential reconnect delays with jitter.

Jitter spreads reconnects of several bridges (or of a bridge restarted with its PBX) so
they do not hit a recovering Asterisk in lockstep.
"""

from __future__ import annotations

import random
from typing import Final

BACKOFF_FACTOR: Final = 2.0


class Backoff:
    """``next_delay()`` grows from ``initial`` by doubling up to ``maximum``;
    each delay is scaled by a random factor in [1 - jitter, 1 + jitter]."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        jitter: float,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if not 0 <= jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._next = initial

    def next_delay(self) -> float:
        """The delay before the next attempt; doubles the one after."""
        base = self._next
        self._next = min(self.maximum, base * BACKOFF_FACTOR)
        return self._spread(base)

    def max_delay(self) -> float:
        """The longest delay (used after a refused login: a fast retry cannot succeed)."""
        self._next = self.maximum
        return self._spread(self.maximum)

    def reset(self) -> None:
        """Back to the initial delay (after a successful login)."""
        self._next = self.initial

    def _spread(self, base: float) -> float:
        return base * (1 + self._rng.uniform(-self.jitter, self.jitter))
