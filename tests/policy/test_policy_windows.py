"""The edge of every window: merchant time zones, daylight saving, the last second, fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from policy_factory import line, policy, request

from hub.policy import History, decide

MICROSECOND = timedelta(microseconds=1)


def action(pol: object, delivered: datetime, asked: datetime, **req: object) -> str:
    built = request(delivered=delivered, asked=asked, **req)  # type: ignore[arg-type]
    return decide(pol, built, History(), asked).action  # type: ignore[arg-type]


# (timezone, mode, delivered (UTC), first instant outside the window (UTC))
EDGES = [
    # 10:00 EST on 6 March; day 30 is 5 April; DST began on 9 March, so local midnight is 04:00 UTC.
    ("America/New_York", "calendar", datetime(2025, 3, 6, 15, 0, tzinfo=UTC), datetime(2025, 4, 6, 4, 0, tzinfo=UTC)),
    # 00:30 JST on 7 March is still 6 March in UTC: day 0 is the local date.
    ("Asia/Tokyo", "calendar", datetime(2025, 3, 6, 15, 30, tzinfo=UTC), datetime(2025, 4, 6, 15, 0, tzinfo=UTC)),
    ("UTC", "calendar", datetime(2025, 3, 6, 23, 59, 59, tzinfo=UTC), datetime(2025, 4, 6, 0, 0, tzinfo=UTC)),
    # Europe/Berlin leaves DST on 26 October: the closing local midnight is 23:00 UTC.
    ("Europe/Berlin", "calendar", datetime(2025, 10, 1, 6, 0, tzinfo=UTC), datetime(2025, 10, 31, 23, 0, tzinfo=UTC)),
    # exact: 30 x 24 h after the instant, whatever the clocks did in between.
    ("America/New_York", "exact", datetime(2025, 3, 6, 15, 0, 0, tzinfo=UTC), datetime(2025, 4, 5, 15, 0, tzinfo=UTC)),
    (
        "Europe/Berlin",
        "exact",
        datetime(2025, 10, 1, 6, 0, 0, 250_000, tzinfo=UTC),
        datetime(2025, 10, 31, 6, 0, 0, 250_000, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(("zone", "mode", "delivered", "closes"), EDGES)
def test_last_second_of_the_window(zone: str, mode: str, delivered: datetime, closes: datetime) -> None:
    pol = policy(timezone=zone, windows={"mode": mode, "default": {"days": 30, "start": "delivery"}})
    assert action(pol, delivered, closes - timedelta(seconds=1)) == "approve"
    assert action(pol, delivered, closes - MICROSECOND) == "approve"
    assert action(pol, delivered, closes) == "deny"
    assert action(pol, delivered, closes + timedelta(seconds=1)) == "deny"


def test_the_explanation_names_the_local_last_day() -> None:
    pol = policy(timezone="America/New_York")
    delivered = datetime(2025, 3, 6, 15, 0, tzinfo=UTC)
    built = request(delivered=delivered, asked=datetime(2025, 4, 6, 4, 0, tzinfo=UTC))
    decision = decide(pol, built, History(), built.requested_at)
    assert "ended on 5 April 2025" in decision.explanation
    assert "America/New_York" not in decision.explanation  # customer words, not config
    assert "2025-04-06T00:00:00-04:00" in decision.rules[0].detail


def test_zero_days_means_the_same_local_day() -> None:
    pol = policy(timezone="Europe/Berlin", windows={"default": {"days": 0}})
    delivered = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    assert action(pol, delivered, datetime(2025, 6, 2, 21, 59, 59, tzinfo=UTC)) == "approve"
    assert action(pol, delivered, datetime(2025, 6, 2, 22, 0, 0, tzinfo=UTC)) == "deny"


BASE = datetime(2025, 1, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "paid", "fulfilled", "delivered", "expected_event"),
    [
        ("delivery", BASE + DAY, BASE + 2 * DAY, None, "fulfilment"),
        ("delivery", BASE + DAY, None, None, "payment"),
        ("delivery", None, None, None, "the order"),
        ("fulfillment", BASE + DAY, None, BASE + 3 * DAY, "payment"),
        ("payment", None, BASE + 2 * DAY, BASE + 3 * DAY, "the order"),
        ("order", BASE + DAY, BASE + 2 * DAY, BASE + 3 * DAY, "the order"),
    ],
)
def test_unknown_start_dates_fall_back_to_earlier_events(
    start: str, paid: datetime | None, fulfilled: datetime | None, delivered: datetime | None, expected_event: str
) -> None:
    pol = policy(windows={"default": {"days": 1, "start": start}})
    built = request(asked=BASE + 40 * DAY, created=BASE, paid=paid, fulfilled=fulfilled, delivered=delivered)
    decision = decide(pol, built, History(), built.requested_at)
    assert decision.action == "deny"
    assert f"from {expected_event}" in decision.rules[0].detail


def test_a_request_time_after_the_decision_is_clamped_to_the_decision() -> None:
    delivered = datetime(2025, 1, 1, tzinfo=UTC)
    built = request(delivered=delivered, asked=delivered + timedelta(days=60))
    pol = policy()
    # decided while still inside the window: the future request time does not count against it
    assert decide(pol, built, History(), delivered + timedelta(days=2)).action == "approve"


def test_each_kind_has_its_own_window() -> None:
    pol = policy(windows={"default": {"days": 30}, "service": {"days": 3, "start": "order"}})
    base = datetime(2025, 1, 1, 12, tzinfo=UTC)
    built = request(
        [line("1", 1_000), line("2", 500, kind="service")],
        created=base,
        delivered=base + timedelta(days=2),
        asked=base + timedelta(days=10),
    )
    decision = decide(pol, built, History(), built.requested_at)
    assert decision.action == "approve_partial"
    assert decision.line_amounts == (("1", 1_000), ("2", 0))
    assert [hit.rule for hit in decision.rules][0] == "window.service"
