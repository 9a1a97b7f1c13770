"""Departments and their experts from hotline.conf, with who is on duty at a given moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.config import HotlineConfig
from hotline.config.model import Expert


@dataclass(frozen=True, slots=True)
class ExpertOnDuty:
    expert: Expert
    on_duty: bool

    @property
    def target(self) -> str | None:
        """What hotline-expert dials: the extension, else the outside number (digits only)."""
        if self.expert.extension:
            return self.expert.extension
        return "".join(ch for ch in self.expert.number or "" if ch.isdigit()) or None


def department_experts(config: HotlineConfig, department: str, now: datetime) -> list[ExpertOnDuty]:
    """The department's experts in their configured order, each with its duty status now."""
    local = now.astimezone(config.hall.tz)
    return [ExpertOnDuty(e, e.on_duty(local)) for e in config.experts_of(department)]


def find_expert(config: HotlineConfig, name: str, now: datetime) -> ExpertOnDuty | None:
    local = now.astimezone(config.hall.tz)
    expert = next((e for e in config.experts if e.name == name), None)
    return ExpertOnDuty(expert, expert.on_duty(local)) if expert else None
