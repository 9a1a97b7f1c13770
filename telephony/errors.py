"""Refusals of the hall's routes (codes and statuses are stable for API clients)."""

from __future__ import annotations

from hotline.errors import Refusal


class BridgeNotRunning(Refusal):
    """The service runs without the AMI bridge (`serve --no-bridge`, or it is not started)."""

    code = "bridge_not_running"
    status = 503


__all__ = ["BridgeNotRunning"]
