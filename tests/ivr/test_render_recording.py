"""The rendered 质检 recording: two-track MixMonitor on the seat's answer, the notice, the switch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hotline.config import ConfigError, HotlineConfig, load_config
from ivr.dialplan import render_dialplan
from ivr.errors import RenderError
from ivr.modules import render_modules
from ivr.prompts import prompt_texts
from tests.ivr.conf_text import contexts


def test_every_seat_answer_starts_a_two_track_recording(hall: HotlineConfig) -> None:
    dialplan = contexts(render_dialplan(hall).decode("utf-8"))
    for line in (x for x in dialplan["hotline-seat"] if x.startswith("exten")):
        seat = line.split(" => ")[1].split(",")[0]
        assert line.endswith(f"U(hotline-record^{seat}))")
    record = "\n".join(dialplan["hotline-record"])
    spool = hall.recording.pbx_spool
    assert f"Set(HOTLINE_REC_BASE={spool}/${{HOTLINE_REC_ID}})" in record
    assert ("MixMonitor(,r(${HOTLINE_REC_BASE}-operator.wav)t(${HOTLINE_REC_BASE}-citizen.wav),"
            "touch ${HOTLINE_REC_BASE}.closed)") in record
    # the id is filtered before it reaches the command MixMonitor runs
    assert "Set(HOTLINE_REC_ID=${FILTER(0-9A-Za-z_.,${CHANNEL(linkedid)})}-${FILTER(0-9,${ARG1})})" in record
    assert "hangup_handler_push)=hotline-record-done,s,1" in record
    done = "\n".join(dialplan["hotline-record-done"])
    assert "ended=${STRFTIME(,,%s.%6q)}" in done and "UserEvent(HotlineRecording," in done
    opened = dialplan["hotline-open"]
    assert opened[0] == ("exten => s,1,Read(HOTLINE_KEYED,hotline/greeting&hotline/recording-notice&"
                         "hotline/named-operator,2,,1,1.5)")
    assert "load=app_mixmonitor.so" in render_modules(hall).decode("utf-8")
    assert prompt_texts(hall)["recording-notice"] == hall.prompts.recording_notice


def test_recording_switched_off_leaves_no_trace(hall_conf: Path) -> None:
    off = load_config(hall_conf, overrides={"recording.enabled": "no"})
    text = render_dialplan(off).decode("utf-8")
    assert "MixMonitor" not in text and "hotline-record" not in text and "recording-notice" not in text
    assert "app_mixmonitor" not in render_modules(off).decode("utf-8")
    assert "recording-notice" not in prompt_texts(off)


def test_unsafe_recording_spool_is_refused(hall_conf: Path) -> None:
    """hotline check refuses it with the file and line; the renderer, given such a configuration
    some other way, refuses it too rather than write a dialplan that breaks."""
    with pytest.raises(ConfigError, match=r"\[recording\] pbx_spool"):
        load_config(hall_conf, overrides={"recording.pbx_spool": "/var/spool/x y"})
    good = load_config(hall_conf)
    bad = dataclasses.replace(good, recording=dataclasses.replace(good.recording, pbx_spool="/var/spool/x y"))
    with pytest.raises(RenderError, match=r"\[recording\] pbx_spool"):
        render_dialplan(bad)
