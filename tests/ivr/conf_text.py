"""Reading rendered Asterisk files back in tests: sections (names may repeat) and contexts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SECTION = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?\s*$")


@dataclass
class Block:
    name: str
    template: str
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        return next((v for k, v in self.options if k == key), None)

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.options if k == key]


def blocks(text: str) -> list[Block]:
    """Every [section] with its key=value options, in file order."""
    found: list[Block] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        match = SECTION.match(line)
        if match:
            found.append(Block(match.group(1), match.group(2) or ""))
        elif found and "=" in line:
            key, _, value = line.partition("=")
            found[-1].options.append((key.strip().rstrip(">").strip(), value.strip()))
    return found


def typed(text: str, kind: str) -> dict[str, Block]:
    """Sections of one pjsip `type` (templates resolved for `type` only)."""
    templates = {b.name: b for b in blocks(text) if b.template == "!"}
    result = {}
    for block in blocks(text):
        if block.template == "!":
            continue
        block_type = block.get("type") or (templates[block.template].get("type")
                                           if block.template in templates else None)
        if block_type == kind:
            result[block.name] = block
    return result


def contexts(text: str) -> dict[str, list[str]]:
    """Dialplan context -> its `exten =>`/`same =>`/`include =>` lines."""
    result: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        match = SECTION.match(line)
        if match:
            current = match.group(1)
            result[current] = []
        elif current and line and not line.startswith(";"):
            result[current].append(line)
    return result
