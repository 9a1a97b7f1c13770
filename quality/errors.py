"""Refusals of 质检 (codes and statuses are stable for API clients; messages in Chinese).

InvalidDate and InvalidRange are the reports' too, so they are declared once in the base
(hotline.errors) and named here."""

from __future__ import annotations

from hotline.errors import InvalidDate, InvalidRange, Refusal


class QualityError(Refusal):
    """Base of the 质检 refusals (not raised itself)."""


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
