"""Message as an immutable case-insensitive mapping; Action serialisation and injection guard."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from telephony.ami import Action, Message
from telephony.ami.event_lists import LIST_COMPLETE_EVENTS, complete_event_for


def test_message_is_a_case_insensitive_mapping() -> None:
    message = Message([("Event", "Newchannel"), ("Uniqueid", "1.2"), ("ActionID", "hotline-3")])
    assert isinstance(message, Mapping)
    assert message["uniqueid"] == message["UNIQUEID"] == "1.2"
    assert "EVENT" in message and "Missing" not in message and 3 not in message
    assert message.get("missing") is None and message.get("missing", "x") == "x"
    assert list(message) == ["Event", "Uniqueid", "ActionID"]
    assert dict(message) == {"Event": "Newchannel", "Uniqueid": "1.2", "ActionID": "hotline-3"}
    with pytest.raises(KeyError):
        message["Nope"]


def test_kind_name_and_action_id() -> None:
    event = Message({"Event": "Hangup"})
    response = Message({"Response": "Error", "ActionID": "a9", "Message": "No such channel"})
    other = Message({"Foo": "bar"})
    # OriginateResponse is an event that also carries a Response header.
    originate = Message({"Event": "OriginateResponse", "ActionID": "a9", "Response": "Success"})
    assert (event.kind, event.name, event.action_id) == ("event", "Hangup", None)
    assert (response.kind, response.name, response.action_id) == ("response", "Error", "a9")
    assert (other.kind, other.name) == ("other", None)
    assert (originate.kind, originate.name) == ("event", "OriginateResponse")


def test_message_is_immutable_and_hashable() -> None:
    message = Message({"Event": "Hangup"})
    with pytest.raises(TypeError):
        message["Event"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        message.other = 1  # type: ignore[attr-defined]
    assert hash(message) == hash(Message([("Event", "Hangup")]))
    assert message == Message([("Event", "Hangup")])
    assert message == {"Event": "Hangup"}
    assert message != Message([("Event", "Newchannel")])


def test_message_rejects_non_string_headers() -> None:
    with pytest.raises(TypeError):
        Message([("Event", 5)])  # type: ignore[list-item]


def test_repr_shows_all_headers() -> None:
    text = repr(Message([("Event", "X"), ("V", "1"), ("V", "2")]))
    assert "V='1'" in text and "V='2'" in text


def test_action_serialises_with_crlf_and_utf8() -> None:
    action = Action("Originate", Channel="Local/seat01@sim-seat", Async=True, Timeout=30000)
    action.add("Variable", ["CALLER=张三丰", "ROUTE=after_hours"])
    data = action.to_bytes("hotline-1")
    assert (
        data
        == (
            "Action: Originate\r\nActionID: hotline-1\r\nChannel: Local/seat01@sim-seat\r\n"
            "Async: true\r\nTimeout: 30000\r\nVariable: CALLER=张三丰\r\nVariable: ROUTE=after_hours"
            "\r\n\r\n"
        ).encode()
    )
    assert action.headers[-2:] == (("Variable", "CALLER=张三丰"), ("Variable", "ROUTE=after_hours"))


@pytest.mark.parametrize("bad", ["x\r\nAction: Hangup", "x\nChannel: all", "x\r", "x\0"])
def test_action_rejects_header_injection(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Action("Setvar", Variable="CALLER", Value=bad)
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        Action("Originate").add("Variable", ["ok=1", bad])


@pytest.mark.parametrize("key", ["", "Bad Key", "Bad:Key", "Bad\r\nKey"])
def test_action_rejects_bad_header_names(key: str) -> None:
    with pytest.raises(ValueError):
        Action("Ping").add(key, "x")


def test_action_refuses_caller_set_action_id() -> None:
    with pytest.raises(ValueError, match="set by the client"):
        Action("Ping", ActionID="mine")


def test_action_repr_hides_secret() -> None:
    assert "topsecret" not in repr(Action("Login", Username="u", Secret="topsecret"))


def test_list_table_lookup_is_case_insensitive() -> None:
    assert complete_event_for("queuestatus") == "QueueStatusComplete"
    assert complete_event_for("PJSIPShowContacts") == "ContactListComplete"
    assert complete_event_for("Originate") is None
    assert complete_event_for("QueueRule") is None
    assert LIST_COMPLETE_EVENTS["DeviceStateList"] == "DeviceStateListComplete"
