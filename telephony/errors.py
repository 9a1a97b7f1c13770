"""Refusals of the hall's routes (codes and statuses are stable for API clients).

`BridgeNotRunning` is shared with the seats' desk and the callbacks' dialler, so it is declared
once in the base (hotline.errors) and named here for the hall's routes.
"""

from __future__ import annotations

from hotline.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning, Refusal


class HallNotFound(Refusal):
    """No PBX of this name ([pbx NAME] in hotline.conf) for a hall's own figures."""

    code = "hall_not_found"
    status = 404


__all__ = ["BRIDGE_NOT_RUNNING", "BridgeNotRunning", "HallNotFound"]
