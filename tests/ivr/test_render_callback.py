"""The callback context: through the trunk with its prefix, or a logged refusal without one."""

from __future__ import annotations

from pathlib import Path

from hotline.config import HotlineConfig, load_config
from ivr.dialplan import render_dialplan
from tests.ivr.conf_text import contexts

TRUNK = {"trunk.host": "127.0.0.2", "trunk.port": "5070", "trunk.username": "hall12345",
         "trunk.password": "trunk-pw", "trunk.prefix": "9"}


def test_callback_dials_the_citizen_through_the_trunk_with_its_prefix(hall_conf: Path) -> None:
    config = load_config(hall_conf, overrides=TRUNK)
    steps = contexts(render_dialplan(config).decode("utf-8"))["hotline-callback"]
    assert steps[0].startswith("exten => _X.,1,Set(CHANNEL(language)=zh)")
    assert steps[2] == "same => n,Dial(PJSIP/9${EXTEN}@hotline-trunk,45)"
    assert steps[3] == "same => n,Hangup()"
    assert any("Log(NOTICE,callback ${HOTLINE_CALLBACK_ID}" in step for step in steps)


def test_without_a_trunk_the_callback_is_logged_and_hung_up(hall: HotlineConfig) -> None:
    assert hall.trunk is None
    steps = contexts(render_dialplan(hall).decode("utf-8"))["hotline-callback"]
    assert steps[0].startswith("exten => _X.,1,Log(WARNING,callback ${HOTLINE_CALLBACK_ID}")
    assert "no [trunk] is configured" in steps[0]
    assert steps[1] == "same => n,Hangup(3)"
    assert not any("Dial(" in step for step in steps)


def test_callback_context_renders_deterministically(hall_conf: Path) -> None:
    config = load_config(hall_conf, overrides=TRUNK)
    assert render_dialplan(config) == render_dialplan(config)
    text = render_dialplan(config).decode("utf-8")
    # After the three-way contexts, before the site include.
    assert text.index("[hotline-bridge-join]") < text.index("[hotline-callback]") \
        < text.index("#tryinclude extensions_local.conf")
