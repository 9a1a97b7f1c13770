"""The rendered configuration in a real Asterisk 22: clean start, every module, app and profile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.modules import modules_for
from ivr.pjsip import endpoint_names
from tests.ivr import pbx as ivr_pbx
from tests.ivr.pbx import PROBLEM_LINE, IvrPbx
from tests.ivr.phones import CITIZENS

pytestmark = pytest.mark.pbx


def test_asterisk_starts_without_a_warning_or_error(main_pbx: IvrPbx, variant_pbx: IvrPbx,
                                                    ) -> None:
    for running in (main_pbx, variant_pbx):
        log = running.boot_log
        assert "modules will be loaded" in log, "the messages log is not written"
        assert [line for line in log.splitlines() if PROBLEM_LINE.search(line)] == []


def test_every_listed_module_is_running(pbx: IvrPbx) -> None:
    status = {}
    for line in pbx.cli("module show").splitlines():
        words = line.split()
        if words and words[0].endswith(".so"):
            status[words[0]] = "Running" if "Running" in line else "Not Running"
    assert {name: status.get(name) for name in modules_for(pbx.config)} == \
        dict.fromkeys(modules_for(pbx.config), "Running")
    assert len(status) == len(modules_for(pbx.config)), "modules loaded that are not listed"


def test_every_application_and_function_of_the_dialplan_exists(pbx: IvrPbx) -> None:
    text = (pbx.out_dir / "extensions.conf").read_text(encoding="utf-8")
    steps = [line.split(",", 2)[2] if line.startswith("exten") else line.split(",", 1)[1]
             for line in text.splitlines() if line.startswith(("exten =>", " same =>"))]
    applications = {re.match(r"([A-Za-z]+)\(", step).group(1) for step in steps}
    functions = set(re.findall(r"\$\{([A-Z_0-9]+)\(", text))
    functions |= set(re.findall(r"Set\(([A-Z_]+)\(", text))
    known_apps = {line.split(":")[0].strip().lower()
                  for line in pbx.cli("core show applications").splitlines() if ":" in line}
    known_functions = {line.split()[0] for line in pbx.cli("core show functions").splitlines()
                       if line.strip() and line.split()[0].isupper()}
    assert {app for app in applications if app.lower() not in known_apps} == set()
    assert functions - known_functions == set()
    assert {"Queue", "Dial", "Record", "Read", "ConfBridge", "BridgeAdd", "UserEvent"} \
        <= applications
    assert {"STRFTIME", "DIALPLAN_EXISTS", "FILE", "BASE64_ENCODE", "QUEUE_MEMBER"} <= functions


def test_every_context_is_loaded(pbx: IvrPbx) -> None:
    text = (pbx.out_dir / "extensions.conf").read_text(encoding="utf-8")
    rendered = set(re.findall(r"^\[([a-z-]+)\]$", text, re.MULTILINE)) - {"general", "globals"}
    entry = pbx.cli("dialplan show hotline-entry")
    assert "'12345' =>" in entry and "UserEvent(HotlineRoute" in entry
    shown = set(re.findall(r"\[ Context '([^']+)' created by 'pbx_config' \]",
                           pbx.cli("dialplan show")))
    assert rendered <= shown


def test_conference_profiles_are_loaded(pbx: IvrPbx) -> None:
    assert "hotline_bridge" in pbx.cli("confbridge show profile bridges")
    users = pbx.cli("confbridge show profile users")
    assert "hotline_user" in users and "hotline_operator" in users
    operator = pbx.cli("confbridge show profile user hotline_operator")
    assert re.search(r"Quiet:\s+enabled", operator) and re.search(r"Admin:\s+true", operator)
    assert "hotline_menu" in pbx.cli("confbridge show menus")


async def test_ami_lists_every_endpoint_and_the_queue(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    listing = await ami.send("PJSIPShowEndpoints")
    names = {m["ObjectName"] for m in listing if m.get("Event") == "EndpointList"}
    assert names == {*endpoint_names(pbx.config), *CITIZENS}
    assert len([s for s in pbx.config.seats if s.extension in names]) == 50
    status = await ami.send("QueueStatus", Queue=pbx.config.queue.name)
    params = [m for m in status if m.get("Event") == "QueueParams"]
    assert [(p["Queue"], p["Strategy"]) for p in params] == [("hotline", "rrmemory")]
    shown = pbx.cli("queue show hotline")
    assert "'rrmemory' strategy" in shown and "within 15s" in shown


def test_sip_and_rtp_stay_on_loopback(pbx: IvrPbx) -> None:
    transports = pbx.cli("pjsip show transport hotline-udp")
    assert re.search(rf"bind\s*:\s*127\.0\.0\.1:{pbx.config.sip.port}\b", transports)
    endpoint = pbx.cli("pjsip show endpoint 1001")
    assert re.search(r"media_address\s*:\s*127\.0\.0\.1", endpoint)
    assert re.search(r"bind_rtp_to_media_address\s*:\s*true", endpoint)
    assert re.search(r"max_contacts\s*:\s*1", pbx.cli("pjsip show aor 1001"))


def test_a_trunk_configuration_loads_too(hall_conf: Path, tmp_path: Path) -> None:
    """Trunk on an unused loopback address: its modules run and its objects load cleanly."""
    running = ivr_pbx.start("ivrtrunk", hall_conf, tmp_path, {
        "trunk.host": "127.0.0.5", "trunk.username": "hall12345", "trunk.password": "pw",
        "trunk.prefix": "9"})
    try:
        assert [line for line in running.boot_log.splitlines() if PROBLEM_LINE.search(line)] \
            == []
        running_modules = running.cli("module show")
        for name in ("res_pjsip_endpoint_identifier_ip.so",
                     "res_pjsip_outbound_authenticator_digest.so"):
            assert re.search(rf"^{re.escape(name)}\s.*Running", running_modules, re.MULTILINE)
        assert "127.0.0.5" in running.cli("pjsip show identify hotline-trunk")
        assert "hotline-trunk-auth" in running.cli("pjsip show endpoint hotline-trunk")
        assert "PJSIP/913800138000@hotline-trunk" in running.cli("dialplan show hotline-expert")
    finally:
        ivr_pbx.stop(running)
