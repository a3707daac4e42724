"""hub.ledger.disputes on both databases: one row per (dispute, payment reference), a late older
event never undoes a newer one, a second dispute keeps the payment held, and the payment's flag
follows its disputes in every store that knows the payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hub.contracts import DisputeEvent, DisputeState
from hub.db.migrate import upgrade
from hub.ledger import disputes, payments
from hub.ledger.history import build_history
from tests.ledger.conftest import ROUTE, approved, get, payment_facts

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def event(dispute_id: str, state: DisputeState, at: datetime | None, reference: str = "pay-1") -> DisputeEvent:
    return DisputeEvent(dispute_id, reference, state, state.value, 1000, "USD", at=at)


def test_a_late_older_event_never_undoes_a_newer_one(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts())
        assert disputes.record(conn, ROUTE, event("dp-1", DisputeState.WON, T0 + timedelta(hours=2)))
        assert not disputes.record(conn, ROUTE, event("dp-1", DisputeState.OPEN, T0))  # created, delivered late
        assert disputes.mark_payment(conn, ROUTE, "pay-1") is False
        assert not payments.is_disputed(conn, payment_id)
        assert disputes.record(conn, ROUTE, event("dp-1", DisputeState.LOST, T0 + timedelta(hours=3)))
        assert disputes.mark_payment(conn, ROUTE, "pay-1") is True
        assert disputes.held_on(conn, payment_id)


def test_a_second_open_dispute_keeps_the_hold(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        disputes.record(conn, ROUTE, event("dp-1", DisputeState.OPEN, T0))
        disputes.record(conn, ROUTE, event("dp-2", DisputeState.OPEN, T0))
        disputes.record(conn, ROUTE, event("dp-1", DisputeState.WON, T0 + timedelta(days=1)))
        assert disputes.holding(conn, ROUTE, "pay-1")
        disputes.record(conn, ROUTE, event("dp-2", DisputeState.WON, T0 + timedelta(days=2)))
        assert not disputes.holding(conn, ROUTE, "pay-1")


def test_one_dispute_may_name_two_references_and_other_accounts_do_not_count(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        disputes.record(conn, ROUTE, event("du_1", DisputeState.OPEN, T0, "pi_1"))
        disputes.record(conn, ROUTE, event("du_1", DisputeState.OPEN, T0, "ch_1"))
        assert disputes.holding(conn, ROUTE, "pi_1")
        assert disputes.holding(conn, ROUTE, "ch_1")
        assert not disputes.holding(conn, "gateway:other", "pi_1")
        count = conn.execute(sa.text("SELECT count(*) FROM disputes")).scalar()
        assert count == 2


def test_the_flag_reaches_the_policy_and_the_read_model(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        refund_id = approved(conn)
        refund = get(conn, refund_id)
        assert build_history(conn, refund, 30, T0).payment_disputed is False
        disputes.record(conn, ROUTE, event("dp-1", DisputeState.OPEN, T0))
        # no mark_payment yet: a gateway lookup may have cleared the flag; the dispute row still holds
        assert build_history(conn, refund, 30, T0).payment_disputed is True
        assert disputes.disputed_refunds(conn, [refund_id, "rf_other"]) == {refund_id}
        assert [r.id for r in disputes.refunds_on(conn, ROUTE, "pay-1", ("approved",))] == [refund_id]
        assert disputes.disputed_refunds(conn, []) == set()
