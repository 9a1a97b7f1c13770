"""Writing extensions.conf text: contexts, extensions and labelled priorities."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# A step is "App(args)" or (label, "App(args)").
Step = str | tuple[str, str]
EXTENSION_NAME = re.compile(r"^(_?[0-9A-Za-z*#+\[\]._-]+)$")


@dataclass
class Context:
    """One dialplan context; extensions keep the order they were added in."""

    name: str
    comment: str = ""
    includes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def exten(self, name: str, steps: Sequence[Step], comment: str = "") -> Context:
        if not EXTENSION_NAME.match(name):
            raise ValueError(f"unusable extension name {name!r}")
        if not steps:
            raise ValueError(f"extension {name} needs at least one step")
        if comment:
            self.lines.append(f"; {comment}")
        for index, step in enumerate(steps):
            label, app = step if isinstance(step, tuple) else ("", step)
            if any(ch in app for ch in "\r\n;"):
                raise ValueError(f"line break or ';' (a comment) in dialplan step {app!r}")
            priority = "1" if index == 0 else "n"
            if label:
                priority += f"({label})"
            head = f"exten => {name}," if index == 0 else " same => "
            self.lines.append(f"{head}{priority},{app}")
        return self

    def text(self) -> str:
        out = [f"; {line}".rstrip() for line in self.comment.splitlines()]
        out.append(f"[{self.name}]")
        out += [f"include => {name}" for name in self.includes]
        out += self.lines
        return "\n".join(out) + "\n"
