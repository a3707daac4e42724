"""Refund windows per product kind, counted from a chosen event, in the merchant's time zone.

``calendar`` mode (the default): the window covers whole local days — day 0 is the local date of
the start event, and the window closes at the local midnight that ends day ``days + grace_days``.
``exact`` mode: it closes exactly ``(days + grace_days) x 24 h`` after the start instant.
Either way the closing instant itself is outside the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from hub.models import OrderFacts
from hub.policy.config import START_FALLBACK, WindowRule

_EVENT_FIELD = {"order": "created_at", "payment": "paid_at", "fulfillment": "fulfilled_at", "delivery": "delivered_at"}
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
EVENT_WORDS = {"order": "the order", "payment": "payment", "fulfillment": "fulfilment", "delivery": "delivery"}


@dataclass(frozen=True)
class Window:
    """One kind's window for one order; the texts are built once however many lines share it."""

    rule: WindowRule
    event: str  # the event actually used (after falling back)
    started: datetime
    closes: datetime  # first instant outside the window
    zone: ZoneInfo

    @property
    def fell_back(self) -> bool:
        return self.event != self.rule.start

    @cached_property
    def last_day(self) -> str:
        day = (self.closes - timedelta(microseconds=1)).astimezone(self.zone)
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"  # English whatever the process locale

    @cached_property
    def summary(self) -> str:
        """For the merchant: the rule, the start actually used and the local closing time."""
        rule = self.rule
        grace = f" + {rule.grace_days} grace" if rule.grace_days else ""
        fallback = f" ({EVENT_WORDS[rule.start]} date unknown)" if self.fell_back else ""
        return (
            f"window {rule.days} days{grace} from {EVENT_WORDS[self.event]}{fallback} "
            f"{self.started.isoformat()} closed {self.closes.astimezone(self.zone).isoformat()}"
        )


def window_for(rule: WindowRule, order: OrderFacts, zone: ZoneInfo, mode: str) -> Window | None:
    """The window of a rule for this order, or None when the rule has no time limit."""
    if rule.days is None:
        return None
    event, started = "order", order.created_at
    for candidate in START_FALLBACK[rule.start]:
        moment = getattr(order, _EVENT_FIELD[candidate])
        if moment is not None:
            event, started = candidate, moment
            break
    length = rule.days + rule.grace_days
    if mode == "exact":
        closes = started + timedelta(days=length)
    else:
        last = started.astimezone(zone).date() + timedelta(days=length)
        # compared in UTC: cheaper than resolving the zone's offset at every comparison
        closes = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return Window(rule=rule, event=event, started=started, closes=closes, zone=zone)
