"""Refusals of the voicemail register and the screening desk (codes and statuses are stable)."""

from __future__ import annotations

from hotline.errors import InvalidReason, Refusal
from voicemail.callbacks.errors import UnknownDepartment


class VoicemailError(Refusal):
    """Base of the voicemail refusals (not raised itself)."""


class VoicemailNotFound(VoicemailError):
    code = "voicemail_not_found"
    status = 404


class InvalidState(VoicemailError):
    code = "invalid_state"
    status = 422


class NoAudio(VoicemailError):
    code = "no_audio"
    status = 404


class AudioMissing(VoicemailError):
    code = "audio_missing"
    status = 410


class AudioUnreadable(VoicemailError):
    code = "audio_unreadable"
    status = 410


class OverrideError(VoicemailError):
    """Base of the screening desk's refusals of a decision (not raised itself)."""

    status = 422


class InvalidVerdict(OverrideError):
    code = "invalid_verdict"


class InvalidCallbackNumber(OverrideError):
    code = "invalid_callback_number"


class InvalidUrgency(OverrideError):
    code = "invalid_urgency"


class DuplicateOfRequired(OverrideError):
    code = "duplicate_of_required"


class InvalidDuplicateOf(OverrideError):
    code = "invalid_duplicate_of"
    status = 409


class VersionConflict(OverrideError):
    code = "version_conflict"
    status = 409


class NoCallbackNumber(OverrideError):
    code = "no_callback_number"
    status = 409


class NotDecided(OverrideError):
    code = "not_decided"
    status = 409


class NothingToUndo(OverrideError):
    code = "nothing_to_undo"
    status = 409


__all__ = ["AudioMissing", "AudioUnreadable", "DuplicateOfRequired", "InvalidCallbackNumber",
           "InvalidDuplicateOf", "InvalidReason", "InvalidState", "InvalidUrgency", "InvalidVerdict",
           "NoAudio", "NoCallbackNumber", "NotDecided", "NothingToUndo", "OverrideError",
           "UnknownDepartment", "VersionConflict", "VoicemailError", "VoicemailNotFound"]
