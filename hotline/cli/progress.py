"""A plain text progress bar on stderr: batch commands show where they are without extra packages."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
MIN_REDRAW_S = 0.1  # redrawing more often only costs time on a terminal


class ProgressBar:
    """`[#####.....] 12/40 label`, redrawn in place on a terminal; in a log, one line each time
    the bar grows (at most BAR_WIDTH lines), so a 40 MB download does not write 600 lines."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "") -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.label = label
        self._last = 0.0
        self._tty = self.stream.isatty()
        self._drawn = -1

    def update(self, done: int, note: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        final = done >= self.total
        if self._tty and not (force or final) and now - self._last < MIN_REDRAW_S:
            return
        filled = int(BAR_WIDTH * done / self.total) if self.total else BAR_WIDTH
        if not self._tty and filled == self._drawn and not final:
            return
        self._last = now
        self._drawn = filled
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        text = f"{self.label}[{bar}] {done}/{self.total} {note}".rstrip()
        if self._tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
