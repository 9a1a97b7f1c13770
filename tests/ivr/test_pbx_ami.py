"""The service's AMI account: it can do exactly what the service needs, and hears only that."""

from __future__ import annotations

import asyncio
import re
import socket
import xml.etree.ElementTree as ET

import pytest

from ivr.manager import READ_CLASSES, WRITE_CLASSES
from telephony.ami import Action, AmiFramer, Message
from tests.ivr.calls import call_hotline, route_of
from tests.ivr.pbx import IvrPbx

pytestmark = pytest.mark.pbx

# Every action the service sends, with arguments that reach the permission check and beyond.
NEEDED_ACTIONS: dict[str, dict[str, str]] = {
    "QueueAdd": {"Queue": "hotline", "Interface": "Local/50@hotline-seat",
                 "StateInterface": "PJSIP/1050", "MemberName": "50"},
    "QueuePause": {"Queue": "hotline", "Interface": "Local/50@hotline-seat", "Paused": "true",
                   "Reason": "break"},
    "QueueStatus": {"Queue": "hotline"},
    "QueueRemove": {"Queue": "hotline", "Interface": "Local/50@hotline-seat"},
    "CoreShowChannels": {},
    "DeviceStateList": {},
    "PJSIPShowContacts": {},
    "PJSIPShowEndpoints": {},
    "Redirect": {"Channel": "PJSIP/none-0000", "Context": "hotline-entry", "Exten": "s",
                 "Priority": "1"},
    "Hangup": {"Channel": "PJSIP/none-0000"},
    "Getvar": {"Variable": "EPOCH"},
    "Setvar": {"Variable": "HOTLINE_TEST_GLOBAL", "Value": "1"},
    "ConfbridgeList": {"Conference": "4242"},
    "ConfbridgeKick": {"Conference": "4242", "Channel": "all"},
    "BridgeList": {},
    "BridgeInfo": {"BridgeUniqueid": "none"},
    "CoreSettings": {},
    "CoreStatus": {},
}
# What the account must not do: the CLI, raising user events, sending messages.
# (GetConfig, UpdateConfig, DialplanExtensionAdd and ModuleLoad stay possible: they accept
# "system", which PJSIPShowContacts/PJSIPShowEndpoints need; see ivr/manager.py.)
DENIED_ACTIONS: dict[str, dict[str, str]] = {
    "Command": {"Command": "core show version"},
    "MessageSend": {"To": "pjsip:1001", "From": "x", "Body": "x"},
    "UserEvent": {"UserEvent": "Forged"},
}
NEEDED_EVENTS = ("FullyBooted", "ContactStatus", "Newchannel", "Hangup", "BridgeEnter",
                 "DeviceStateChange", "OriginateResponse", "QueueCallerJoin", "AgentConnect",
                 "QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause", "UserEvent")
FLOOD_EVENTS = ("VarSet", "Newexten", "RTCPSent", "RTCPReceived", "DTMFBegin", "DTMFEnd",
                "TestEvent", "Cdr", "Cel")
DOCS = "usr/share/asterisk/documentation/core-en_US.xml"


def _privileges(pbx: IvrPbx, action: str) -> set[str]:
    """The classes that allow `action`, from `manager show command` (empty: anyone)."""
    text = pbx.cli(f"manager show command {action}")
    found = re.search(r"\[Privilege\]\s*\n\s*(\S+)", text)
    assert found, text
    return set() if found.group(1) == "<none>" else set(found.group(1).split(",")) - {"all"}


def _event_classes(pbx: IvrPbx) -> dict[str, str]:
    tree = ET.parse(pbx.pbx.root / DOCS)
    classes = {}
    for event in tree.getroot().iter("managerEvent"):
        instance = event.find("managerEventInstance")
        if instance is not None and instance.get("class"):
            classes[event.get("name", "")] = instance.get("class", "").removeprefix(
                "EVENT_FLAG_").lower()
    return classes


async def test_needed_actions_are_allowed(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    for action, fields in NEEDED_ACTIONS.items():
        response = (await ami.send(action, **fields))[0]
        assert response.get("Message") != "Permission denied", action
    channel = await call_hotline(ami, None, application="Wait", data="5")
    await ami.action("Redirect", Channel=channel["Channel"], Context="hotline-threeway",
                     Exten="4243", Priority="1")
    await ami.wait_event(lambda e: e.get("Event") == "ConfbridgeJoin")
    await ami.action("Hangup", Channel=channel["Channel"])


async def test_other_actions_are_denied(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    for action, fields in DENIED_ACTIONS.items():
        response = (await ami.send(action, **fields))[0]
        assert response.get("Response") == "Error", action
        assert response.get("Message") == "Permission denied", (action, response)


def test_each_write_class_is_needed(pbx: IvrPbx) -> None:
    """Every granted class is the only way for at least one needed action to be allowed."""
    granted = set(WRITE_CLASSES)
    needs = {action: _privileges(pbx, action) for action in (*NEEDED_ACTIONS, "Originate")}
    for action, allowed_by in needs.items():
        assert not allowed_by or allowed_by & granted, action
    for klass in granted:
        assert any(allowed_by & granted == {klass} for allowed_by in needs.values()), klass


def test_each_read_class_carries_a_needed_event(pbx: IvrPbx) -> None:
    classes = _event_classes(pbx)
    needed = {classes[event] for event in NEEDED_EVENTS}
    assert needed == set(READ_CLASSES)
    assert not {classes.get(event) for event in FLOOD_EVENTS} & set(READ_CLASSES)


async def test_a_call_brings_call_agent_and_user_events_and_no_floods(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    await ami.action("QueueAdd", Queue="hotline", Interface="Local/49@hotline-seat",
                     StateInterface="PJSIP/1049", MemberName="49")
    await ami.action("QueuePause", Queue="hotline", Interface="Local/49@hotline-seat",
                     Paused="true", Reason="lunch")
    route = await route_of(ami, pbx.local_time("2026-11-26T10:00"))
    assert route["Route"] == "open"
    # the caller stays 40 s: greeting, recording notice and the 工号 prompt come before the queue
    channel = await call_hotline(ami, pbx.local_time("2026-11-26T10:00"), data="40")
    await ami.wait_event(lambda e: e.get("Event") == "QueueCallerJoin", timeout=30)
    await asyncio.sleep(0.5)
    await ami.action("Hangup", Channel=channel["Channel"])
    await ami.wait_event(lambda e: e.get("Event") == "QueueCallerAbandon")
    await ami.action("QueueRemove", Queue="hotline", Interface="Local/49@hotline-seat")
    await ami.wait_event(lambda e: e.get("Event") == "QueueMemberRemoved")
    seen = {e.get("Event") for e in ami.events}
    assert {"FullyBooted", "Newchannel", "Hangup", "UserEvent", "QueueCallerJoin",
            "QueueMemberAdded", "QueueMemberPause", "DeviceStateChange"} <= seen
    assert not seen & set(FLOOD_EVENTS)
    for event in ami.events:
        classes = set(event.get("Privilege", "all").split(",")) - {"all"}
        assert classes <= set(READ_CLASSES), event


LOG_POLLS = 40
LOG_POLL_S = 0.05


async def test_dangerous_functions_are_out_of_reach(pbx: IvrPbx) -> None:
    """FILE() writes the voicemail metadata from the dialplan, never from AMI."""
    ami = await pbx.ami()
    response = (await ami.send("Getvar", Variable="FILE(/etc/hostname)"))[0]
    assert response.get("Response") == "Error" or not response.get("Value")
    problems: list[str] = []
    for _ in range(LOG_POLLS):  # Asterisk's logger thread writes the refusal a moment later
        problems += pbx.new_problems()
        if problems:
            break
        await asyncio.sleep(LOG_POLL_S)
    assert problems and all("live_dangerously" in line or "FILE" in line for line in problems)


async def test_login_from_another_address_is_refused(pbx: IvrPbx) -> None:
    """permit is loopback's 127.0.0.1 only: 127.0.0.2 (also loopback) is another host."""
    ami = pbx.manifest["ami"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.2", 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (str(ami["host"]), int(str(ami["port"]))))
    reader, writer = await asyncio.open_connection(sock=sock)
    await reader.readline()  # the banner
    login = Action("Login", Username=str(ami["username"]), Secret=str(ami["secret"]))
    writer.write(login.to_bytes("refused-1"))
    framer = AmiFramer()
    answers: list[Message] = []
    async with asyncio.timeout(10):
        while not answers:
            answers = [m for m in framer.feed(await reader.read(4096)) if m.kind == "response"]
    writer.close()
    response = answers[0]
    assert response.get("Response") == "Error"
    assert response.get("Message") == "Authentication failed"
