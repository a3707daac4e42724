"""What changed between two policy texts: the rules in plain words that appear or go away
(``Policy.describe``), and the TOML lines themselves (a unified diff)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.policy import Policy


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add | remove | same | hunk
    text: str


@dataclass(frozen=True)
class PolicyDiff:
    added: tuple[str, ...]  # rules in words the newer text has and the older has not
    removed: tuple[str, ...]
    lines: tuple[DiffLine, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or any(d.kind in ("add", "remove") for d in self.lines))


def _rules(policy: Policy | None) -> list[str]:
    return policy.describe()[1:] if policy is not None else []  # [0] names the version


def diff(old_text: str, new_text: str, old: Policy | None, new: Policy | None) -> PolicyDiff:
    before, after = _rules(old), _rules(new)
    lines = []
    for raw in difflib.unified_diff(old_text.splitlines(), new_text.splitlines(), lineterm="", n=2):
        if raw.startswith(("---", "+++")):
            continue
        kind = {"@": "hunk", "+": "add", "-": "remove"}.get(raw[:1], "same")
        lines.append(DiffLine(kind, raw[1:] if kind != "hunk" else raw))
    return PolicyDiff(
        tuple(r for r in after if r not in before), tuple(r for r in before if r not in after), tuple(lines)
    )
