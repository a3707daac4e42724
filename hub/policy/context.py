"""Per-request working state shared by the rule modules: the request, clock, history index, hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from hub.models import RefundRequest
from hub.models.money import format_decimal
from hub.policy.config import places
from hub.policy.history import History, HistoryIndex, Identity
from hub.policy.policy import Policy

HARD, GUARD, SOFT = "hard", "guard", "soft"
WAIVABLE = frozenset({"deny", "review", "reduce", "offer_alternative"})


@dataclass(frozen=True, slots=True)
class Hit:
    """A fired rule with what the customer should read about it.

    ``tier``: hard rules (dispute, currency, over-refund) and guards (caps, blocklist, custom
    deny/review) stand even when a custom ``approve`` rule fires; soft rules give way to it.
    """

    rule: str
    effect: str
    detail: str
    message: str = ""
    tier: str = SOFT


@dataclass
class Context:
    policy: Policy
    request: RefundRequest
    history: History
    now: datetime
    hits: list[Hit] = field(default_factory=list)
    unknowns: list[Hit] = field(default_factory=list)  # rules not evaluated; listed after the hits
    override: str | None = None  # the custom approve rule that waives soft rules

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=UTC)
        # The window is judged when the customer asked, not when a queue got to it; a request
        # time in the future (clock skew, a bad payload) is clamped to the decision time.
        self.asked_at = min(self.request.requested_at, self.now)
        self.now_ts = self.now.timestamp()
        self.sections = self.policy.sections
        self.currency = self.request.currency

    @cached_property
    def index(self) -> HistoryIndex:
        return self.history.index(self.sections.ignore_states)

    @cached_property
    def identity(self) -> Identity:
        return Identity.of(self.request)

    @cached_property
    def keys(self) -> dict[str, str | None]:
        return self.identity.keys()

    @cached_property
    def asked_text(self) -> str:
        return self.asked_at.astimezone(self.policy.zone).isoformat()

    @cached_property
    def merchant_fault(self) -> bool:
        return self.request.reason.value in self.sections.merchant_fault

    def money(self, minor: int) -> str:
        return f"{format_decimal(minor, self.currency, places=places(self.currency))} {self.currency}"

    def add(self, hit: Hit) -> Hit:
        """Record a hit; under a custom ``approve`` a soft restriction is listed as ``info``."""
        if self.override and hit.tier == SOFT and hit.effect in WAIVABLE:
            hit = Hit(hit.rule, "info", f"{hit.detail} (waived by {self.override})", hit.message, hit.tier)
        self.hits.append(hit)
        return hit


def line_label(line_id: str | None, title: str) -> str:
    if line_id is None:
        return "the order"
    return f"line {line_id}" + (f" {title!r}" if title else "")


def item_name(title: str) -> str:
    return f"“{title}”" if title else "this item"
