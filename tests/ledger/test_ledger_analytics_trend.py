"""The trend and the customer feedback of analytics, each figure computed again here from the seed
(the rows of ``test_ledger_analytics``' seed, plus feedback), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import refunds
from hub.db.tables_customer import feedback
from hub.ledger import analytics
from hub.ledger.people import StoreScope
from tests.ledger.test_ledger_analytics import NOW, SINCE, UNTIL, _in, _refunded, _run, _seed, built


@pytest.fixture(params=["ledger", "rollup"])
def seeded(
    any_engine: sa.Engine, request: pytest.FixtureRequest
) -> tuple[sa.Engine, list[dict[str, Any]], list[dict[str, Any]]]:
    upgrade(any_engine)
    rng = random.Random(5)
    rows, _ = _seed(rng, 300)
    # the edges of a day, in UTC: the last microsecond of a day belongs to it
    edge = dict(rows[1], id="rf_edge", source_ref="rq-edge", idempotency_key="k-edge", parent_id=None,
                created_at=datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC))  # fmt: skip
    rows.append(edge)
    answers = [
        {"refund_id": row["id"], "rating": rng.randint(1, 5), "comment": "",
         "reason": rng.choice((None, None, "damaged")), "detail": None, "created_at": NOW}
        for row in rows[::3]
    ]  # fmt: skip
    with any_engine.begin() as conn:
        conn.execute(sa.insert(refunds), rows)
        conn.execute(sa.insert(feedback), answers)
    built(any_engine, request.param == "rollup")
    return any_engine, rows, answers


def test_refunds_per_day_every_day_of_the_period(seeded: Any) -> None:
    engine, rows, _ = seeded
    counts: Counter[str] = Counter()
    money: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if _in(row):
            day = row["created_at"].astimezone(UTC).date().isoformat()
            counts[day] += 1
            money[day][row["currency"]] += _refunded(row)
    found = _run(engine, analytics.trend, analytics.Slice(SINCE, UNTIL), "day")
    days = [(SINCE + timedelta(days=n)).date().isoformat() for n in range(30)]
    assert [f.period for f in found] == days
    assert {f.period: f.refunds for f in found} == {day: counts[day] for day in days}
    assert all(f.refunded == {c: v for c, v in money[f.period].items() if v} for f in found)
    assert {f.period: f.refunds for f in found}["2026-11-22"] >= 1  # the edge row is its own day's


def test_refunds_per_week_start_on_monday(seeded: Any) -> None:
    engine, rows, _ = seeded
    counts: Counter[str] = Counter()
    for row in rows:
        if _in(row):
            day = row["created_at"].astimezone(UTC).date()
            counts[(day - timedelta(days=day.weekday())).isoformat()] += 1
    found = _run(engine, analytics.trend, analytics.Slice(SINCE, UNTIL), "week")
    first = SINCE.date() - timedelta(days=SINCE.weekday())
    weeks = [(first + timedelta(weeks=n)).isoformat() for n in range(6) if first + timedelta(weeks=n) < UNTIL.date()]
    assert [f.period for f in found] == weeks
    assert {f.period: f.refunds for f in found} == {week: counts[week] for week in weeks}
    with pytest.raises(ValueError, match="day or week"):
        _run(engine, analytics.trend, analytics.Slice(SINCE, UNTIL), "hour")


def test_feedback_scores_per_rating(seeded: Any) -> None:
    engine, rows, answers = seeded
    by_id = {row["id"]: row for row in rows}
    scope = StoreScope(stores=frozenset({("shopify", "s1.myshopify.com"), ("woocommerce", "w1")}))
    seen = [by_id[a["refund_id"]] for a in answers]
    mine = [a for a, row in zip(answers, seen, strict=True) if _in(row) and row["store_id"] != "s2.myshopify.com"]
    found = _run(engine, analytics.feedback_scores, analytics.Slice(SINCE, UNTIL, scope=scope))
    ratings = Counter(a["rating"] for a in mine)
    corrected = Counter(a["rating"] for a in mine if a["reason"])
    assert [(f.rating, f.answers, f.corrected) for f in found] == [
        (rating, ratings[rating], corrected[rating]) for rating in sorted(ratings)
    ]
