"""Errors callers of the AMI client must tell apart: each needs a different reaction."""

from __future__ import annotations

from .message import Message


class AmiError(Exception):
    """Base of every AMI client error."""


class AmiNotConnected(AmiError):
    """No logged-in connection (or it dropped before the answer): the action was not done,
    or its outcome is unknown. Never retried by the client; the caller decides."""


class AmiTimeout(AmiError):
    """Asterisk did not answer (or did not finish an event list) in time."""


class AmiActionError(AmiError):
    """Asterisk answered "Response: Error"; ``message`` is that response."""

    def __init__(self, action: str, message: Message) -> None:
        self.action = action
        self.message = message
        super().__init__(f"{action} failed: {message.get('Message') or 'no reason given'}")


class AmiLoginError(AmiError):
    """Asterisk refused the Login (wrong username/secret, ACL): retrying fast will not help."""
