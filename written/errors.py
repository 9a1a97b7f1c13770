"""Refusals of the written channels (codes and statuses are stable for API clients).

The service and the importer raise these; the one handler (hotline.api.errors) renders them, so
the routes do not catch. `DepartmentUnexpected` and `UnknownDepartment` are the callbacks' and
the screening desk's refusals too (a code means one thing): declared in voicemail.callbacks.errors.
"""

from __future__ import annotations

from hotline.errors import Refusal
from voicemail.callbacks.errors import DepartmentUnexpected, UnknownDepartment


class WrittenError(Refusal):
    """Base of the written channels' refusals (not raised itself)."""


class MessageNotFound(WrittenError):
    code = "message_not_found"
    status = 404


class IdempotencyKeyReused(WrittenError):
    code = "idempotency_key_reused"
    status = 409


class AlreadyDecided(WrittenError):
    code = "already_decided"
    status = 409


class UnknownAction(WrittenError):
    code = "unknown_action"
    status = 422


class ReasonTooLong(WrittenError):
    code = "reason_too_long"
    status = 422


class ReasonRequired(WrittenError):
    code = "reason_required"
    status = 422


class UnknownSection(WrittenError):
    code = "unknown_section"
    status = 422


class FileTooLarge(WrittenError):
    code = "payload_too_large"
    status = 413


class ImportRefused(WrittenError):
    """The file cannot be imported; `problems` are Chinese lines, each naming its row (the
    refusal's detail), and nothing of it was stored."""

    code = "import_refused"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("文件未导入：" + problems[0], detail=problems)


__all__ = ["AlreadyDecided", "DepartmentUnexpected", "FileTooLarge", "IdempotencyKeyReused",
           "ImportRefused", "MessageNotFound", "ReasonRequired", "ReasonTooLong", "UnknownAction",
           "UnknownDepartment", "UnknownSection", "WrittenError"]
