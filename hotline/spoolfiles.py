"""What the service reads from a spool Asterisk writes (voicemail, call recordings), trusted no
further than it must be: the one home of the rules both spools follow.

Only regular files are taken and links are never followed (lstat to list, O_NOFOLLOW to open,
fstat on what was opened): a symlink named like a recording (to the secrets file, say) would
otherwise be archived and served back through the API. A time written into a spool's metadata
counts only within [EARLIEST_CALL, LATEST_CALL): a year-9999 epoch parses, but cannot even be
shown in the hall's zone (OverflowError in every report).
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

EARLIEST_CALL = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_CALL = datetime(2100, 1, 1, tzinfo=UTC)
"""Call times outside [EARLIEST_CALL, LATEST_CALL) are refused as malformed metadata."""


class NotRegularFile(OSError):
    """A spool entry that is a link, a pipe or a device: never read."""


def open_regular(path: Path) -> int:
    """A read descriptor on `path` only if it is a regular file reached without any link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFile(f"{path.name} is not a regular file")
    return fd


def entry_kind(path: Path) -> str | None:
    """'file' for a regular file, 'dir' for a folder, 'other' for a link, pipe or device (never
    to be read), None when it is gone; the link itself is looked at, never what it points to."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return "file"
    return "dir" if stat.S_ISDIR(mode) else "other"


def plausible_call_time(moment: datetime) -> bool:
    """Whether a time from spool metadata may be a call's (see the module's docstring)."""
    return EARLIEST_CALL <= moment < LATEST_CALL
