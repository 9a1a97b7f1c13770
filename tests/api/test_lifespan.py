"""Components start with the app in order and stop in reverse; a failed start unwinds."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.api import Component, create_app
from hotline.config import HotlineConfig


@dataclass
class Recorder(Component):
    name: str
    journal: list[str]
    fail_start: bool = False
    seen_state: list[str] = field(default_factory=list)

    async def start(self, app: FastAPI) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.seen_state.append(type(app.state.config).__name__)
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")


def test_components_start_in_order_and_stop_in_reverse(config: HotlineConfig) -> None:
    journal: list[str] = []
    ami, workers = Recorder("ami", journal), Recorder("workers", journal)
    app = create_app(config, components=[ami, workers])

    with TestClient(app):
        assert journal == ["start ami", "start workers"]
    assert journal == ["start ami", "start workers", "stop workers", "stop ami"]
    assert ami.seen_state == ["HotlineConfig"]


def test_a_failed_start_stops_what_had_started(config: HotlineConfig) -> None:
    journal: list[str] = []
    app = create_app(config, components=[Recorder("ami", journal),
                                         Recorder("workers", journal, fail_start=True)])

    with pytest.raises(RuntimeError, match="workers cannot start"), TestClient(app):
        pass
    assert journal == ["start ami", "stop ami"]
