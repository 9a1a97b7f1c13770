"""/metrics: the Prometheus text format checked by a small parser of the exposition grammar, over a
Hall fed with recorded AMI events, without the bridge, and for each role."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.api.routes import metrics as metrics_routes
from hotline.api.routes.metrics import CONTENT_TYPE, Family, format_value, render
from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from telephony.hall import Hall, Halls
from tests.ami_transcripts import channel_named, load_transcript
from tests.api.test_status_and_stats import (
    SIP_SEAT,
    WAITED,
    auth,
    build,
    replayed_hall,
    sessions,  # noqa: F401
    tokens,  # noqa: F401
)
from tests.two_halls import two_hall_conf

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\\n]|\\.)*)"(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
ALL_SEAT_STATES = {"offline", "logged_out", "available", "ringing", "on_call", "wrap_up", "paused"}

Labels = tuple[tuple[str, str], ...]


@dataclass
class Parsed:
    help: str
    type: str | None = None
    samples: dict[Labels, float] = field(default_factory=dict)

    def value(self, **labels: str) -> float:
        return self.samples[tuple(sorted(labels.items()))]


def _labels(text: str | None) -> Labels:
    if not text:
        return ()
    found, position = [], 0
    while position < len(text):
        match = _LABEL.match(text, position)
        assert match, f"bad label set {text!r} at {position}"
        value = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match["value"])
        found.append((match["key"], value))
        position = match.end()
    assert len({key for key, _ in found}) == len(found), f"repeated label in {text!r}"
    return tuple(sorted(found))


def _number(text: str) -> float:
    special = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}
    return special[text] if text in special else float(text)


def parse(text: str) -> dict[str, Parsed]:
    """Families by name; fails on anything the 0.0.4 text format does not allow."""
    assert text.endswith("\n")
    families: dict[str, Parsed] = {}
    current: str | None = None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP "):].partition(" ")
            assert name not in families, f"{name} described twice"
            families[name] = Parsed(help_text)
            current = name
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE "):].partition(" ")
            assert name == current and families[name].type is None and not families[name].samples
            assert kind in TYPES
            families[name].type = kind
        elif line.startswith("#") or not line.strip():
            continue
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            assert match["name"] == current, f"{match['name']} outside its family"
            labels = _labels(match["labels"])
            samples = families[match["name"]].samples
            assert labels not in samples, f"duplicate sample {line!r}"
            samples[labels] = _number(match["value"])
    return families


@dataclass(frozen=True)
class UpStatus:
    """An AMI link that is up, with Asterisk's uptime (as the Hall reports it)."""

    connected: bool = True
    last_error: str | None = None
    connected_since: datetime | None = None
    pbx_uptime_seconds: float | None = 3600.5


@pytest.fixture
def scrape(config: HotlineConfig, sessions) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(build(config, replayed_hall(config, sessions)), raise_server_exceptions=False) as client:
        yield client


def metrics_of(client: TestClient, token: str) -> dict[str, Parsed]:
    response = client.get("/metrics", headers=auth(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    families = parse(response.text)
    for name, family in families.items():
        assert name.startswith("hotline_") and family.type == "gauge" and family.help
    return families


def test_metrics_of_the_replayed_hall(scrape, tokens) -> None:  # noqa: F811
    m = metrics_of(scrape, tokens[Role.MONITOR])
    seats = m["hotline_seats"].samples
    assert {dict(labels)["state"] for labels in seats} == ALL_SEAT_STATES
    assert {dict(labels)["hall"] for labels in seats} == {"main"}  # one PBX: one series per state
    assert m["hotline_seats"].value(hall="main", state="on_call") == 1
    assert m["hotline_seats"].value(hall="main", state="paused") == 1
    assert m["hotline_seats"].value(hall="main", state="offline") == 1
    assert m["hotline_seats"].value(hall="main", state="ringing") == 0
    assert m["hotline_bridge_running"].value() == 1
    assert m["hotline_ami_connected"].value(hall="main") == 0
    assert "hotline_pbx_uptime_seconds" not in m  # not connected: unknown
    assert m["hotline_calls_in_progress"].value(hall="main") == 2
    assert m["hotline_three_way_calls_in_progress"].value(hall="main") == 0
    assert m["hotline_queue_waiting"].value(hall="main") == 1
    assert m["hotline_queue_longest_wait_seconds"].value(hall="main") == WAITED
    # telephony/kpi.py: 08's answered call; 04's caller still waits, so is not received yet
    assert m["hotline_calls_received_today"].value(hall="main") == 1
    assert m["hotline_calls_answered_today"].value(hall="main") == 1
    assert m["hotline_calls_answered_within_service_level_today"].value(hall="main") == 1
    assert m["hotline_calls_abandoned_today"].value(hall="main") == 0
    assert m["hotline_service_level_ratio"].value(hall="main") == 1.0
    assert m["hotline_service_level_threshold_seconds"].value(hall="main") == 15
    assert m["hotline_average_speed_of_answer_seconds"].value(hall="main") == 0.0  # 08's HoldTime
    assert m["hotline_voicemails"].samples == {(("state", s),): 0 for s in
                                               ("new", "needs_review", "valid", "invalid")}
    assert m["hotline_callbacks"].value(state="queued") == 0
    assert len(m["hotline_info"].samples) == 1


def test_a_three_way_call_and_an_idle_day(config, sessions, tokens) -> None:  # noqa: F811
    # Recording 07: the expert's BridgeAdd half enters the queue call's bridge.
    joiner = channel_named(load_transcript("07"), "Local/s@hotline-bridge-join-")[:-1] + "2"
    three_way = replayed_hall(config, sessions, seats=(SIP_SEAT,), script=(
        ("07", {"event": "BridgeEnter", "Channel": joiner}),))
    with TestClient(build(config, three_way)) as client:
        m = metrics_of(client, tokens[Role.OPERATOR])
    assert m["hotline_three_way_calls_in_progress"].value(hall="main") == 1
    assert m["hotline_seats"].value(hall="main", state="on_call") == 1

    idle = replayed_hall(config, sessions, script=(("05", {"event": "QueueMemberPause", "Paused": "1"}),))
    with TestClient(build(config, idle)) as client:
        m = metrics_of(client, tokens[Role.ADMIN])
    assert m["hotline_calls_received_today"].value(hall="main") == 0
    assert "hotline_service_level_ratio" not in m and "hotline_answer_rate_ratio" not in m
    assert m["hotline_queue_longest_wait_seconds"].value(hall="main") == 0


def test_two_halls_give_one_series_per_hall_that_add_up_to_the_status(tmp_path: Path) -> None:
    """Issue 17: the replayed hall as "main" and an unstarted "west" (城西大厅, two seats offline);
    every hall metric is labelled with its PBX, and summing over `hall` gives /api/status's total."""
    config = load_config(two_hall_conf(tmp_path / "hall"),
                         overrides={"database.url": f"sqlite:///{tmp_path}/m.db"})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        token = add_token(session, "scraper", Role.MONITOR)
    halls = Halls([replayed_hall(config.for_pbx("main"), factory), Hall(config.for_pbx("west"), None)])
    with TestClient(build(config, halls)) as client:
        m = metrics_of(client, token)
        status = client.get("/api/status", headers=auth(token)).json()
    engine.dispose()
    assert m["hotline_hall_info"].samples == {(("hall", "main"), ("name", config.hall.name)): 1,
                                              (("hall", "west"), ("name", "城西大厅")): 1}
    assert m["hotline_seats"].value(hall="main", state="on_call") == 1
    assert m["hotline_seats"].value(hall="west", state="offline") == 2
    assert m["hotline_seats"].value(hall="west", state="on_call") == 0
    for state, count in status["seats"]["by_state"].items():
        assert m["hotline_seats"].value(hall="main", state=state) \
            + m["hotline_seats"].value(hall="west", state=state) == count
    assert m["hotline_calls_in_progress"].samples == {(("hall", "main"),): 2, (("hall", "west"),): 0}
    assert m["hotline_queue_waiting"].value(hall="west") == 0
    assert sum(m["hotline_queue_waiting"].samples.values()) == status["queue"]["waiting"] == 1
    assert sum(m["hotline_calls_received_today"].samples.values()) == status["today"]["received"] == 1
    assert m["hotline_ami_connected"].samples == {(("hall", "main"),): 0, (("hall", "west"),): 0}
    # A ratio is only where the hall has had a call; the total's is sum(within) / sum(received).
    assert set(m["hotline_service_level_ratio"].samples) == {(("hall", "main"),)}
    within = sum(m["hotline_calls_answered_within_service_level_today"].samples.values())
    assert within / status["today"]["received"] == status["today"]["service_level"]


def test_without_the_bridge_only_the_store_and_the_link_are_reported(config, tokens) -> None:  # noqa: F811
    with TestClient(build(config)) as client:
        m = metrics_of(client, tokens[Role.MONITOR])
    assert m["hotline_bridge_running"].value() == 0 and m["hotline_ami_connected"].value() == 0
    for absent in ("hotline_seats", "hotline_calls_in_progress", "hotline_queue_waiting",
                   "hotline_calls_received_today", "hotline_service_level_ratio"):
        assert absent not in m
    assert set(dict(k)["state"] for k in m["hotline_callbacks"].samples) == {"queued", "claimed", "closed"}


def test_uptime_when_asterisk_is_connected(config, tokens) -> None:  # noqa: F811
    app = create_app(config, ami_status=UpStatus())
    app.include_router(metrics_routes.router)
    with TestClient(app) as client:
        m = metrics_of(client, tokens[Role.MONITOR])
    assert m["hotline_ami_connected"].value() == 1  # without the bridge: the one link, unlabelled
    assert m["hotline_pbx_uptime_seconds"].value() == 3600.5


def test_metrics_live_at_the_root_behind_a_token(scrape, tokens) -> None:  # noqa: F811
    anonymous = scrape.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_token"
    assert scrape.get("/metrics", headers=auth("nope")).status_code == 401
    for role in Role:
        assert scrape.get("/metrics", headers=auth(tokens[role])).status_code == 200
    assert scrape.get("/api/metrics", headers=auth(tokens[Role.ADMIN])).status_code == 404


def test_label_values_and_help_are_escaped() -> None:
    tricky = 'a "quoted" \\path\\ and\na new line, 午休'
    text = render([Family("hotline_test", "help with \\ and\nnew line", (({"reason": tricky}, 1.5),
                                                                         ({"reason": "plain"}, 2)))])
    assert 'hotline_test{reason="a \\"quoted\\" \\\\path\\\\ and\\na new line, 午休"} 1.5' in text
    assert "# HELP hotline_test help with \\\\ and\\nnew line\n" in text
    family = parse(text)["hotline_test"]
    assert family.value(reason=tricky) == 1.5 and family.value(reason="plain") == 2


def test_special_values_are_written_as_the_format_says() -> None:
    assert [format_value(v) for v in (True, False, 3, 0.25, math.nan, math.inf, -math.inf)] == \
        ["1", "0", "3", "0.25", "NaN", "+Inf", "-Inf"]
