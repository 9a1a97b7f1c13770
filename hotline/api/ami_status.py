"""What the API needs to know about the AMI connection, whoever provides it.

The real provider is the AMI client in telephony/ami; it satisfies `AmiStatus` structurally
(no import of this module needed). Until `hotline serve` starts it, `NotStartedAmiStatus`
answers, so /api/health reports "degraded" instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

NOT_STARTED = "AMI bridge not started"


@runtime_checkable
class AmiStatus(Protocol):
    """Read-only view of the AMI link.

    Providers may also expose `pbx_version: str | None` and `pbx_uptime_seconds: float | None`
    (from AMI CoreSettings / CoreStatus); /api/health shows them when present.
    """

    @property
    def connected(self) -> bool: ...

    @property
    def last_error(self) -> str | None: ...

    @property
    def connected_since(self) -> datetime | None: ...


@dataclass(frozen=True)
class NotStartedAmiStatus:
    """The status before (or without) an AMI bridge."""

    connected: bool = False
    last_error: str | None = NOT_STARTED
    connected_since: datetime | None = None
