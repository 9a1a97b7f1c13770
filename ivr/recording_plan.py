"""The 质检 recording dialplan: every answered queue call recorded by Asterisk in two tracks.

The seat context's Dial runs ``U(hotline-record^<工号>)`` on the seat phone's channel once the
operator answers: MixMonitor with ``r()`` (what that channel receives: the operator's voice) and
``t()`` (what it sends to the phone: the citizen, and the expert in a three-way call — the
channel moves into the conference room and its audiohook moves with it). Files, named by the
call (the linkedid, '.' as '-') and the seat, in ``[recording] pbx_spool``::

    <id>.meta            key=value lines: written at answer, ended= added by the hangup handler
    <id>-operator.wav    <id>-citizen.wav
    <id>.closed          touched by MixMonitor itself once both files are closed: complete

The service may be down meanwhile: everything it needs to register the recording is in these
files. No caller data reaches MixMonitor's command: the id is filtered to [0-9A-Za-z_-].
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.errors import RenderError
from ivr.extensions import Context
from ivr.names import EVENT_RECORDING, RECORD_CONTEXT, RECORD_DONE_CONTEXT
from ivr.voicemail_plan import SAFE_PATH

OPERATOR_SUFFIX = "-operator.wav"
CITIZEN_SUFFIX = "-citizen.wav"
META_SUFFIX = ".meta"
CLOSED_SUFFIX = ".closed"


def checked_recording_spool(config: HotlineConfig) -> str:
    spool = config.recording.pbx_spool.rstrip("/")
    if not SAFE_PATH.match(spool) or ".." in spool.split("/"):
        raise RenderError(f"[recording] pbx_spool = “{config.recording.pbx_spool}”：只能使用字母、数字和 "
                          "/ _ . -，且不能含 ..（它会写入拨号方案）")
    return spool


def record_option(seat_id: str) -> str:
    """The Dial option starting the recording on the seat's answer ('' when recording is off)."""
    return f"U({RECORD_CONTEXT}^{seat_id})"  # Gosub at s,1 of the context, ARG1 = 工号


def recording_contexts(config: HotlineConfig) -> list[Context]:
    if not config.recording.enabled:
        return []
    spool = checked_recording_spool(config)
    meta = "Set(FILE(${HOTLINE_REC_BASE}.meta,,,al,u)="  # append a line, Unix newline
    start = Context(RECORD_CONTEXT, comment=(
        f"Gosub on the seat phone's channel when it answers (ARG1 = 工号): two tracks into {spool}.\n"
        "The spool must exist and be writable by Asterisk."))
    start.exten("s", [
        "Set(HOTLINE_REC_ID=${FILTER(0-9A-Za-z_.,${CHANNEL(linkedid)})}-${FILTER(0-9,${ARG1})})",
        "Set(HOTLINE_REC_ID=${REPLACE(HOTLINE_REC_ID,.,-)})",
        f"Set(HOTLINE_REC_BASE={spool}/${{HOTLINE_REC_ID}})",
        f"GotoIf(${{STAT(d,{spool})}}?meta)",
        f"Log(ERROR,recording spool {spool} is missing: create it writable by Asterisk. "
        "This call is not recorded)",
        "Return()",
        ("meta", meta + "recording_id=${HOTLINE_REC_ID})"),
        meta + "linkedid=${CHANNEL(linkedid)})",
        meta + "uniqueid=${UNIQUEID})",
        meta + "seat=${FILTER(0-9,${ARG1})})",
        meta + "started=${STRFTIME(,,%s.%6q)})",  # to the microsecond: holds are placed by it
        meta + f"operator_file=${{HOTLINE_REC_ID}}{OPERATOR_SUFFIX})",
        meta + f"citizen_file=${{HOTLINE_REC_ID}}{CITIZEN_SUFFIX})",
        f"Set(CHANNEL(hangup_handler_push)={RECORD_DONE_CONTEXT},s,1)",
        f"MixMonitor(,r(${{HOTLINE_REC_BASE}}{OPERATOR_SUFFIX})t(${{HOTLINE_REC_BASE}}{CITIZEN_SUFFIX}),"
        f"touch ${{HOTLINE_REC_BASE}}{CLOSED_SUFFIX})",
        "Return()",
    ], comment="r(): what the seat channel receives (the operator); t(): what it sends (the others).")
    done = Context(RECORD_DONE_CONTEXT, comment="Hangup handler of a recorded seat channel: "
                                                "close the metadata and tell the service at once.")
    done.exten("s", [
        meta + "ended=${STRFTIME(,,%s.%6q)})",  # precise: the files may lack a hold, see quality.hold
        f"UserEvent({EVENT_RECORDING},RecordingId: ${{HOTLINE_REC_ID}},Linkedid: ${{CHANNEL(linkedid)}})",
        "Return()",
    ])
    return [start, done]
