"""hub.policy.windows directly: the start event and its fallbacks, grace days, the closing instant
in both modes, and the words (the local last day in English, the merchant's summary)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.models import OrderFacts
from hub.policy.config import WindowRule
from hub.policy.windows import EVENT_WORDS, MONTHS, window_for

BERLIN = ZoneInfo("Europe/Berlin")
CREATED = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def order(**times: datetime | None) -> OrderFacts:
    return OrderFacts(
        created_at=times.pop("created_at", None) or CREATED,
        paid_at=times.pop("paid_at", CREATED + timedelta(hours=1)),
        fulfilled_at=times.pop("fulfilled_at", CREATED + timedelta(days=1)),
        delivered_at=times.pop("delivered_at", CREATED + timedelta(days=3)),
        currency="USD",
        total=1000,
        captured=1000,
    )


def test_month_names_are_english_and_in_order() -> None:
    assert MONTHS == (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    )  # fmt: skip


def test_event_words() -> None:
    words = {"order": "the order", "payment": "payment", "fulfillment": "fulfilment", "delivery": "delivery"}
    assert words == EVENT_WORDS


@pytest.mark.parametrize("month", range(1, 13))
def test_the_last_day_names_the_local_date(month: int) -> None:
    start = datetime(2025, month, 10, 12, 0, tzinfo=UTC)
    window = window_for(WindowRule(days=5, start="order"), order(created_at=start), BERLIN, "calendar")
    assert window is not None
    assert window.last_day == f"15 {MONTHS[month - 1]} 2025"


def test_no_days_no_window() -> None:
    assert window_for(WindowRule(days=None, start="delivery"), order(), BERLIN, "calendar") is None


@pytest.mark.parametrize(
    ("start", "missing", "used"),
    [
        ("delivery", (), "delivery"),
        ("delivery", ("delivered_at",), "fulfillment"),
        ("delivery", ("delivered_at", "fulfilled_at"), "payment"),
        ("delivery", ("delivered_at", "fulfilled_at", "paid_at"), "order"),
        ("fulfillment", (), "fulfillment"),
        ("fulfillment", ("fulfilled_at",), "payment"),
        ("payment", (), "payment"),
        ("payment", ("paid_at",), "order"),
        ("order", ("delivered_at", "fulfilled_at", "paid_at"), "order"),
    ],
)
def test_the_start_event_falls_back_in_order(start: str, missing: tuple[str, ...], used: str) -> None:
    facts = order(**dict.fromkeys(missing))
    window = window_for(WindowRule(days=10, start=start), facts, BERLIN, "exact")
    assert window is not None
    field = {"order": "created_at", "payment": "paid_at", "fulfillment": "fulfilled_at", "delivery": "delivered_at"}
    assert window.event == used
    assert window.started == getattr(facts, field[used])
    assert window.fell_back is (used != start)
    assert window.closes == window.started + timedelta(days=10)


def test_grace_days_lengthen_the_window() -> None:
    rule = WindowRule(days=30, start="order", grace_days=2)
    exact = window_for(rule, order(), BERLIN, "exact")
    assert exact is not None
    assert exact.closes == CREATED + timedelta(days=32)
    calendar = window_for(rule, order(), BERLIN, "calendar")
    assert calendar is not None
    # day 0 is 3 March (local); day 32 is 4 April, the window closes at local midnight after it (CEST)
    assert calendar.closes == datetime(2025, 4, 4, 22, 0, tzinfo=UTC)
    assert calendar.last_day == "4 April 2025"


def test_an_exact_window_closing_just_after_midnight_ends_on_that_day() -> None:
    just_after = datetime(2025, 3, 3, 0, 0, 0, 1, tzinfo=BERLIN)  # one microsecond into 3 March, local
    window = window_for(WindowRule(days=1, start="order"), order(created_at=just_after), BERLIN, "exact")
    assert window is not None
    assert window.last_day == "4 March 2025"  # the last instant inside is 4 March 00:00:00 local


def test_the_summary_for_the_merchant() -> None:
    window = window_for(WindowRule(days=30, start="delivery"), order(), BERLIN, "calendar")
    assert window is not None
    assert window.summary == (
        "window 30 days from delivery 2025-03-06T15:00:00+00:00 closed 2025-04-06T00:00:00+02:00"
    )


def test_the_summary_names_grace_and_a_fallback() -> None:
    window = window_for(
        WindowRule(days=30, start="delivery", grace_days=2), order(delivered_at=None), BERLIN, "calendar"
    )
    assert window is not None
    assert window.summary == (
        "window 30 days + 2 grace from fulfilment (delivery date unknown) "
        "2025-03-04T15:00:00+00:00 closed 2025-04-06T00:00:00+02:00"
    )
    ordered = window_for(WindowRule(days=1, start="payment"), order(paid_at=None), BERLIN, "exact")
    assert ordered is not None
    assert ordered.summary.startswith("window 1 days from the order (payment date unknown) ")


def test_a_window_is_immutable() -> None:
    window = window_for(WindowRule(days=1, start="order"), order(), BERLIN, "exact")
    assert window is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.event = "payment"  # type: ignore[misc]
