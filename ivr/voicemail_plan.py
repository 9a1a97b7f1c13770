"""The voicemail dialplan: metadata file, beep, Record, and the hangup handler closing it.

<pbx_spool>/<id>.meta (key=value lines, <id> = the uniqueid with '-' for '.') is written before
the recording and completed on hang-up (record_status, record_bytes, record_seconds, ended=);
UserEvent(HotlineVoicemail) then tells the service at once. Caller data never reaches a shell:
the number is filtered to phone characters and the name is base64-encoded.
"""

from __future__ import annotations

import re

from hotline.config import HotlineConfig
from ivr.errors import RenderError
from ivr.extensions import Context
from ivr.names import (
    EVENT_VOICEMAIL,
    LANGUAGE,
    PROMPT_AFTER_HOURS,
    PROMPT_BEEP,
    ROUTE_AFTER_HOURS,
    ROUTE_OVERFLOW,
    VOICEMAIL_CONTEXT,
    VOICEMAIL_DONE_CONTEXT,
    VOICEMAIL_META_CONTEXT,
    sound,
)

SAFE_PATH = re.compile(r"^/[A-Za-z0-9/_.-]+$")
# Caller numbers in the metadata: what a phone number or SIP user can hold, nothing that
# could break a key=value line.
CALLER_NUMBER_CHARS = "0-9A-Za-z+*#_."
WAV_HEADER_BYTES = 44
WAV_BYTES_PER_SECOND = 16000  # 8 kHz, 16-bit mono: what Record's wav writes


def checked_spool(config: HotlineConfig) -> str:
    spool = config.voicemail.pbx_spool.rstrip("/")
    if not SAFE_PATH.match(spool) or ".." in spool.split("/"):
        raise RenderError(f"[voicemail] pbx_spool = “{config.voicemail.pbx_spool}”：只能使用字母、数字和 "
                          "/ _ . -，且不能含 ..（它会写入拨号方案）")
    return spool


META_LINE = "Set(FILE(${HOTLINE_VM_META},,,al,u)="
"""Appends a line (Unix newline) to the message's .meta file; the line follows, then ")"."""


def voicemail_contexts(config: HotlineConfig) -> list[Context]:
    """The voicemail context, the Gosub writing the .meta header, and the hangup handler."""
    spool = checked_spool(config)
    return [_voicemail_context(config, spool), _meta_header_context(config), _done_context()]


def _voicemail_context(config: HotlineConfig, spool: str) -> Context:
    """Entry per route, then caller data filtered and the recording itself."""
    voicemail = Context(VOICEMAIL_CONTEXT, comment=(
        f"Voicemail into {spool}/<id>.wav with <id>.meta (key=value lines) beside it.\n"
        "The .meta is written before recording and completed by the hangup handler "
        "(ended=...):\nthe message is complete once that line exists. The spool must exist "
        "and be writable\nby Asterisk. No caller data ever reaches a shell."))
    voicemail.exten(ROUTE_AFTER_HOURS, [
        f"Set(HOTLINE_ROUTE={ROUTE_AFTER_HOURS})",
        f"Playback({sound(PROMPT_AFTER_HOURS)})",
        "Goto(record,1)",
    ])
    voicemail.exten(ROUTE_OVERFLOW, [
        f"Set(HOTLINE_ROUTE={ROUTE_OVERFLOW})",
        "Goto(record,1)",
    ])
    voicemail.exten("record", [
        f"Set(CHANNEL(language)={LANGUAGE})",
        'GotoIf($["${HOTLINE_T}" != ""]?named)',
        "Set(HOTLINE_T=${EPOCH})",
        "Set(HOTLINE_NOW_FORCED=0)",
        ("named", "Set(HOTLINE_VM_ID=${FILTER(0-9A-Za-z_.,${UNIQUEID})})"),
        "Set(HOTLINE_VM_ID=${REPLACE(HOTLINE_VM_ID,.,-)})",
        f"Set(HOTLINE_VM_BASE={spool}/${{HOTLINE_VM_ID}})",
        "Set(HOTLINE_VM_META=${HOTLINE_VM_BASE}.meta)",
        f"Set(CHANNEL(hangup_handler_push)={VOICEMAIL_DONE_CONTEXT},s,1)",
        f"Set(HOTLINE_CALLER_NUM=${{FILTER({CALLER_NUMBER_CHARS},${{CALLERID(num)}})}})",
        "Set(HOTLINE_WITHHELD=1)",
        'GotoIf($["${HOTLINE_CALLER_NUM}" = ""]?withheld)',
        'GotoIf($["${TOLOWER(${HOTLINE_CALLER_NUM})}" = "anonymous"]?withheld)',
        'GotoIf($[${REGEX("^allowed" ${CALLERID(num-pres)})} = 0]?withheld)',
        "Set(HOTLINE_WITHHELD=0)",
        "Goto(name)",
        ("withheld", "Set(HOTLINE_CALLER_NUM=)"),
        ("name", "Set(HOTLINE_CALLER_NAME_B64=)"),
        "GotoIf($[${LEN(${CALLERID(name)})} = 0]?started)",
        'GotoIf($[${REGEX("^allowed" ${CALLERID(name-pres)})} = 0]?started)',
        "Set(HOTLINE_CALLER_NAME_B64=${BASE64_ENCODE(${CALLERID(name)})})",
        ("started", "Set(HOTLINE_VM_STARTED=${EPOCH})"),
        "Set(HOTLINE_VM_HEADER=0)",
        f"GotoIf(${{STAT(d,{spool})}}?header)",
        f"Log(ERROR,voicemail spool {spool} is missing: create it writable by Asterisk. "
        "Record creates it now and the metadata follows the recording)",
        "Goto(beep)",
        ("header", f"Gosub({VOICEMAIL_META_CONTEXT},s,1)"),
        ("beep", f"Playback({sound(PROMPT_BEEP)})"),
        f"Record(${{HOTLINE_VM_BASE}}.wav,0,{config.voicemail.max_seconds},kq)",
        "Hangup()",
    ], comment="k: keep the recording when the caller hangs up; q: our own beep; "
               "# ends the message.")
    return voicemail


def _meta_header_context(config: HotlineConfig) -> Context:
    """The first lines of the .meta, written before recording (or by the hangup handler)."""
    meta = META_LINE
    header = Context(VOICEMAIL_META_CONTEXT, comment=(
        "Gosub: the first lines of <id>.meta (FILE() creates no directory; Record does)."))
    header.exten("s", [
        meta + "uniqueid=${UNIQUEID})",
        meta + "linkedid=${CHANNEL(linkedid)})",
        meta + "route=${HOTLINE_ROUTE})",
        meta + "caller_num=${HOTLINE_CALLER_NUM})",
        meta + "caller_withheld=${HOTLINE_WITHHELD})",
        meta + "caller_name_b64=${HOTLINE_CALLER_NAME_B64})",
        meta + "call_epoch=${HOTLINE_T})",
        meta + "pbx_now_forced=${HOTLINE_NOW_FORCED})",
        meta + "record_epoch=${HOTLINE_VM_STARTED})",
        meta + "file=${HOTLINE_VM_ID}.wav)",
        meta + f"max_seconds={config.voicemail.max_seconds})",
        "Set(HOTLINE_VM_HEADER=1)",
        "Return()",
    ])
    return header


def _done_context() -> Context:
    """Hangup handler: the last .meta lines (size, end) and the UserEvent to the service."""
    meta = META_LINE
    done = Context(VOICEMAIL_DONE_CONTEXT, comment="Hangup handler: close the metadata and "
                                                    "tell the service at once.")
    done.exten("s", [
        "GotoIf(${HOTLINE_VM_HEADER}?size)",
        f"Gosub({VOICEMAIL_META_CONTEXT},s,1)",
        ("size", "Set(HOTLINE_VM_BYTES=0)"),
        "Set(HOTLINE_VM_SECONDS=0)",
        "GotoIf($[${STAT(e,${HOTLINE_VM_BASE}.wav)} != 1]?write)",
        "Set(HOTLINE_VM_BYTES=${STAT(s,${HOTLINE_VM_BASE}.wav)})",
        f"GotoIf($[${{HOTLINE_VM_BYTES}} <= {WAV_HEADER_BYTES}]?write)",
        f"Set(HOTLINE_VM_SECONDS=$[TRUNC((${{HOTLINE_VM_BYTES}} - {WAV_HEADER_BYTES}) / "
        f"{WAV_BYTES_PER_SECOND})])",
        ("write", meta + "record_status=${RECORD_STATUS})"),
        meta + "record_bytes=${HOTLINE_VM_BYTES})",
        meta + "record_seconds=${HOTLINE_VM_SECONDS})",
        meta + "ended=${EPOCH})",
        f"UserEvent({EVENT_VOICEMAIL},VoicemailId: ${{HOTLINE_VM_ID}},"
        "File: ${HOTLINE_VM_ID}.wav,Meta: ${HOTLINE_VM_ID}.meta,Route: ${HOTLINE_ROUTE},"
        "RecordStatus: ${RECORD_STATUS},Bytes: ${HOTLINE_VM_BYTES})",
        "Return()",
    ])
    return done


