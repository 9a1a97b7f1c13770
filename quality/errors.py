"""Refusals of 质检 (codes and statuses are stable for API clients; messages in Chinese)."""

from __future__ import annotations

from hotline.errors import Refusal


class QualityError(Refusal):
    """Base of the 质检 refusals (not raised itself)."""


class InvalidDate(QualityError):
    code = "invalid_date"
    status = 422


class InvalidRange(QualityError):
    code = "invalid_range"
    status = 422


class FormMisconfigured(QualityError):
    """The configured scoring form cannot be used: the administrator's to fix."""

    code = "form_misconfigured"
    status = 503


class InvalidScores(QualityError):
    code = "invalid_scores"
    status = 422


class ReviewNotFound(QualityError):
    code = "review_not_found"
    status = 404


class NotYourCall(QualityError):
    code = "not_your_call"
    status = 403


class AudioDeleted(QualityError):
    code = "audio_deleted"
    status = 410


__all__ = ["AudioDeleted", "FormMisconfigured", "InvalidDate", "InvalidRange", "InvalidScores",
           "NotYourCall", "QualityError", "ReviewNotFound"]
