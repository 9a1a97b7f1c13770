"""The hall's live picture: its call model and the seat board side by side, one fold for both.

Pure: `apply(event, now)` folds one AMI event into the call model first, then into the seat
board, which reads the seat phones' channels from that call model (seats stand below the hall,
so the board takes the model through `seat_manager.ports.ChannelReader`). A resync is
`begin_snapshot()`, the list events, `end_snapshot(now)`: the calls forget what the lists did
not show before the seats are re-derived from them.
"""

from __future__ import annotations

from datetime import datetime

from seat_manager.directory import SeatDirectory
from seat_manager.fold import Event
from seat_manager.state import SeatBoard, SeatChange, SeatView
from telephony.calls import CallBook


class HallPicture:
    """Owns the CallBook and the SeatBoard; the monitor feeds it, readers take either half."""

    def __init__(self, directory: SeatDirectory, wrapup_seconds: int) -> None:
        self.calls = CallBook(is_internal=lambda name: directory.by_channel(name) is not None)
        self.board = SeatBoard(directory, wrapup_seconds, self.calls)

    def apply(self, event: Event, now: datetime) -> list[SeatChange]:
        """One AMI event into both halves; the seats whose state changed."""
        self.calls.apply(event, now)
        return self.board.apply(event, now)

    def tick(self, now: datetime) -> list[SeatChange]:
        """Let time pass (wrap-up ends); the call model has no clock of its own."""
        return self.board.tick(now)

    def begin_snapshot(self) -> None:
        """A resync starts: both halves collect the lists that follow."""
        self.calls.begin_snapshot()
        self.board.begin_snapshot()

    def end_snapshot(self, now: datetime) -> list[SeatChange]:
        """The resync is over: calls first, so the seats read what is still alive."""
        self.calls.end_snapshot(now)
        return self.board.end_snapshot(now)

    def mark_stale(self, since: datetime) -> None:
        """The link to Asterisk is down: the picture says since when it may be old."""
        self.board.mark_stale(since)

    def mark_fresh(self) -> None:
        """The picture was rebuilt from Asterisk's answers."""
        self.board.mark_fresh()

    @property
    def stale_since(self) -> datetime | None:
        """Since when the picture is not followed live (None while it is)."""
        return self.board.stale_since

    def seat(self, seat_id: str) -> SeatView | None:
        """One seat with its call, as the board derives it from both halves."""
        return self.board.seat(seat_id)

    def seats(self) -> tuple[SeatView, ...]:
        """All seats, by seat id."""
        return self.board.seats()
