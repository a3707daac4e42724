"""The analytics rollup answers what the ledger answers: after inserts, state and decision
changes, a refund moved to another day, a removal, reviews and feedback — read while the changed
days are logged, after the duty rebuilt them, and against every day read from the ledger — on
SQLite and PostgreSQL; and a change committed during a rebuild keeps its day logged."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import audit, refunds
from hub.db.tables_analytics import analytics_daily, analytics_dirty
from hub.db.tables_customer import feedback
from hub.ledger import analytics, analytics_rollup
from hub.ledger.people import StoreScope
from tests.ledger.test_ledger_analytics import NOW, SINCE, UNTIL, _seed

SLICES = [
    analytics.Slice(SINCE, UNTIL),
    analytics.Slice(SINCE, UNTIL, store_id="w1"),
    analytics.Slice(SINCE, UNTIL, connector="shopify"),
    analytics.Slice(SINCE, UNTIL, scope=StoreScope(stores=frozenset({("shopify", "s1.myshopify.com")}))),
    analytics.Slice(SINCE + timedelta(hours=7), UNTIL - timedelta(hours=5)),  # days taken in part
]


def figures(engine: sa.Engine) -> list[Any]:
    found = []
    with engine.connect() as conn:
        for where in SLICES:
            found += [
                analytics.money(conn, where), analytics.trend(conn, where, "day"), analytics.trend(conn, where, "week"),
                analytics.top_reasons(conn, where, limit=None), analytics.products(conn, where, limit=50),
                analytics.rules_fired(conn, where), analytics.review(conn, where),
                analytics.feedback_scores(conn, where),
                *(analytics.breakdown(conn, where, by) for by in analytics.BREAKDOWNS),
            ]  # fmt: skip
    return found


def logged(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(analytics_dirty)).scalar_one())


def from_ledger(engine: sa.Engine) -> list[Any]:
    """The figures with every store-day logged: read from the ledger alone."""
    with engine.begin() as conn:
        analytics_rollup.mark_everything(conn)
    try:
        return figures(engine)
    finally:
        analytics_rollup.refresh(engine)


def rollup_rows(engine: sa.Engine) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(sa.select(analytics_daily))}


def change(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    """What the pipeline, a person and a customer do to the ledger, as plain writes."""
    r = refunds.c
    ids = [row["id"] for row in rows if row["parent_id"] is None and SINCE <= row["created_at"] < UNTIL]
    with engine.begin() as conn:
        conn.execute(sa.update(refunds).where(r.id == ids[0]).values(state="written_back", approved_amount=100))
        conn.execute(sa.update(refunds).where(r.id == ids[1]).values(state="denied", approved_amount=None))
        conn.execute(sa.update(refunds).where(r.id == ids[2]).values(created_at=NOW - timedelta(days=3, hours=2)))
        conn.execute(sa.update(refunds).where(r.id == ids[3]).values(request={"reason": "fraud", "lines": [
            {"sku": "NEW", "quantity": 4}]}))  # fmt: skip
        conn.execute(
            sa.update(refunds)
            .where(r.id == ids[4])
            .values(
                decision={
                    "decision": {
                        "action": "review",
                        "amount": 5,
                        "alternative": None,
                        "rules": [{"rule": "abuse.new", "effect": "review"}],
                    }
                }
            )
        )
        conn.execute(sa.update(refunds).where(r.id == ids[5]).values(lease_until=NOW, attempts=3))  # no figure moves
        conn.execute(sa.delete(refunds).where(r.id == ids[6]))
        added = dict(
            rows[7], id="rf_new", source_ref="rq-new", idempotency_key="k-new", created_at=NOW - timedelta(days=2)
        )
        conn.execute(sa.insert(refunds), [added])
        conn.execute(sa.insert(audit), [{"at": NOW, "refund_id": ids[8], "actor": "admin:cy", "action": "reviewed",
                                          "detail": {"state": "approved"}}])  # fmt: skip
        conn.execute(sa.insert(feedback), [{"refund_id": ids[9], "rating": 4, "comment": "", "reason": "damaged",
                                            "created_at": NOW}])  # fmt: skip
        conn.execute(sa.update(feedback).where(feedback.c.refund_id == ids[9]).values(rating=2))


@pytest.fixture
def ledger(any_engine: sa.Engine) -> tuple[sa.Engine, list[dict[str, Any]]]:
    upgrade(any_engine)
    rows, trail = _seed(random.Random(23), 300)
    with any_engine.begin() as conn:
        conn.execute(sa.insert(refunds), rows)
        conn.execute(sa.insert(audit), trail)
        answers = [{"refund_id": row["id"], "rating": 1 + i % 5, "comment": "", "reason": None, "created_at": NOW}
                   for i, row in enumerate(rows[::4])]  # fmt: skip
        conn.execute(sa.insert(feedback), answers)
    return any_engine, rows


def test_the_rollup_answers_what_the_ledger_answers(ledger: Any) -> None:
    engine, rows = ledger
    assert logged(engine) > 0  # every seeded store-day, logged by the triggers
    before = figures(engine)
    assert analytics_rollup.refresh(engine) > 0
    assert logged(engine) == 0
    assert figures(engine) == before  # from the rollup now

    change(engine, rows)
    assert 0 < logged(engine) <= 20  # the changed store-days only: the lease update logged nothing
    truth = from_ledger(engine)
    assert truth != before  # the changes moved figures
    assert figures(engine) == truth  # the changed days from the ledger, the others from the rollup (built again)

    change_free = rollup_rows(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(analytics_daily))
        analytics_rollup.mark_everything(conn)
    analytics_rollup.refresh(engine)
    assert rollup_rows(engine) == change_free  # built piecemeal = built from scratch


@pytest.mark.postgres
def test_a_change_committed_during_a_rebuild_stays_logged(pg_engine: sa.Engine) -> None:
    upgrade(pg_engine)
    rows, _ = _seed(random.Random(29), 60)
    with pg_engine.begin() as conn:
        conn.execute(sa.insert(refunds), rows)
    analytics_rollup.refresh(pg_engine)
    target = next(row for row in rows if row["parent_id"] is None and SINCE <= row["created_at"] < UNTIL)
    with pg_engine.begin() as conn:
        analytics_rollup.mark_everything(conn)  # every day, the target's too, to be rebuilt
    with pg_engine.connect() as writer:
        with writer.begin():
            writer.execute(sa.update(refunds).where(refunds.c.id == target["id"]).values(state="failed"))
            assert analytics_rollup.refresh(pg_engine) > 0  # sees neither the change nor its mark
            assert logged(pg_engine) == 0
        assert logged(pg_engine) == 1  # committed after the rebuild's snapshot: still logged
    assert figures(pg_engine) == from_ledger(pg_engine)
