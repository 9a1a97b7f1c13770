"""Settings of one AMI connection, kept apart so the composition root can build them from
hotline.conf without importing the client's machinery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .framing import DEFAULT_MAX_FRAME_BYTES

DEFAULT_EVENTS_MASK: Final = "system,call,agent,user"
"""Event classes the bridge needs; leaves out dialplan (Newexten/VarSet floods), reporting
(RTCP, TestEvent), security and cdr. Override with "on" to receive everything."""


@dataclass(frozen=True, slots=True)
class AmiSettings:
    """Where and how to reach Asterisk's manager interface, and the client's limits."""

    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = ""
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 5.0
    """The longest wait between reconnection attempts (a TCP connect to the PBX is cheap; with
    30 s the picture stayed stale up to 23 s after a 60 s cut, see bench/faults.py)."""
    backoff_jitter: float = 0.2
    event_queue_size: int = 10_000
    events_mask: str = DEFAULT_EVENTS_MASK
    ping_interval: float = 1.5
    """Seconds between keep-alive Pings that detect a silently dead TCP link; 0 disables."""
    ping_timeout: float = 3.0
    """How long a Ping may stay unanswered while nothing at all arrives; interval + timeout
    bounds how long a frozen peer (stopped, no FIN) goes unnoticed: 4.5 s by default."""
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    read_size: int = 64 * 1024
    action_id_prefix: str = "hotline"
    """ActionIDs are "<prefix>-<n>"; OriginateResponse events reach every AMI session, so
    two bridges on one Asterisk should use different prefixes."""
    logoff_timeout: float = 2.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "action_timeout", "backoff_initial", "logoff_timeout",
                     "ping_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"AmiSettings.{name} must be positive")
        if self.backoff_max < self.backoff_initial:
            raise ValueError("AmiSettings.backoff_max must be >= backoff_initial")
        if self.event_queue_size <= 0 or self.read_size <= 0:
            raise ValueError("AmiSettings queue and read sizes must be positive")
        if self.ping_interval < 0:
            raise ValueError("AmiSettings.ping_interval must be >= 0 (0 disables)")

    def __repr__(self) -> str:
        return (
            f"AmiSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"secret=***, events_mask={self.events_mask!r})"
        )
