"""The loaded policy: validated sections plus a version that changes whenever the content does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hub.policy.config import Sections


@dataclass(frozen=True, eq=False)
class Policy:
    """Immutable; equal when the versions (explicit version + content hash) are equal."""

    version: str
    sections: Sections
    source: Mapping[str, Any]
    zone: ZoneInfo

    @property
    def history_lookback_days(self) -> int:
        """How far back the ledger must supply prior refunds (``History.prior_refunds``)."""
        return self.sections.lookback_days

    @property
    def timezone(self) -> str:
        return self.sections.timezone

    def describe(self) -> list[str]:
        """The rules in plain words, one line each, in the order they are applied."""
        from hub.policy.describe import describe

        return describe(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self.version)

    def __repr__(self) -> str:
        return f"Policy(version={self.version!r})"
