"""The one error the sandbox raises, so callers (CLI, test fixtures) can report it plainly."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """The sandbox PBX could not be built, started, reached or stopped; the message says why."""
