"""hub.ledger.payments: payment rows and the refundable balance (invariant 2, "never more than
captured"), as docs/architecture.md states it: every refund that holds money counts, a recorded
one counts when money moved, nothing new starts while one on the payment is unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import payments as payment_rows
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ledger import payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import as_utc
from tests.ledger.conftest import ROUTE, force, payment_facts, request

HOLDING = ["approved", "executing", "pending", "unknown", "succeeded", "written_back"]
NOT_HOLDING = ["requested", "review", "offered", "denied", "failed"]


def open_requested(conn: sa.Connection, source_ref: str, amount: int = 1000) -> str:
    refund_id, created = ledger.open_refund(conn, request(source_ref, amount), kind="requested", state=states.REQUESTED)
    assert created
    return refund_id


def test_upsert_creates_one_row_per_store_route_and_reference(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        again = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        other_store = payments.upsert(conn, "s2", ROUTE, payment_facts("pay-1", 5000))
        other_route = payments.upsert(conn, "s1", "gateway:other", payment_facts("pay-1", 5000))
        other_reference = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-2", 5000))
        row = payments.lock(conn, first)
    assert again == first
    assert len({first, other_store, other_route, other_reference}) == 4
    assert (row.store_id, row.route, row.reference, row.currency, row.captured) == ("s1", ROUTE, "pay-1", "USD", 5000)
    assert row.disputed is False


def test_a_re_read_payment_refreshes_the_captured_amount(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        assert payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 3000)) == payment_id  # partly reversed
        assert payments.lock(conn, payment_id).captured == 3000
        refund_id = open_requested(conn, "rq-1", 4000)
        with pytest.raises(OverRefund):
            payments.reserve(conn, refund_id, payment_id, 4000, expect=states.REQUESTED)


def test_find_by_route_and_reference(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1"))
        found = payments.find(conn, ROUTE, "pay-1")
        assert found is not None
        assert found.id == payment_id
        assert payments.find(conn, ROUTE, "pay-2") is None
        assert payments.find(conn, "gateway:other", "pay-1") is None


def test_disputed_flag(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1"))
        other = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-2"))
        assert payments.is_disputed(conn, payment_id) is False
        payments.set_disputed(conn, "s1", ROUTE, "pay-1", True)
        assert payments.is_disputed(conn, payment_id) is True
        assert payments.is_disputed(conn, other) is False
        payments.set_disputed(conn, "s1", ROUTE, "pay-1", False)
        assert payments.is_disputed(conn, payment_id) is False


def test_reserve_approves_the_amount_against_the_payment(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        refund_id = open_requested(conn, "rq-1", 1500)
        payments.reserve(conn, refund_id, payment_id, 1200, expect=states.REQUESTED)
        row = ledger.get(conn, refund_id)
    assert row is not None
    assert (row.state, row.approved_amount, row.payment_id) == (states.APPROVED, 1200, payment_id)


def test_the_whole_captured_amount_may_be_refunded_and_not_one_unit_more(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        first, second, third = (open_requested(conn, f"rq-{i}", 2500) for i in range(3))
        payments.reserve(conn, first, payment_id, 2500, expect=states.REQUESTED)
        payments.reserve(conn, second, payment_id, 2500, expect=states.REQUESTED)  # exactly captured
        assert payments.committed(conn, payment_id) == 5000
        with pytest.raises(OverRefund, match="refundable balance 0 "):
            payments.reserve(conn, third, payment_id, 1, expect=states.REQUESTED)
        assert ledger.get(conn, third).state == states.REQUESTED  # type: ignore[union-attr]


def test_over_refund_says_what_is_left(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        first, second = open_requested(conn, "rq-1", 3000), open_requested(conn, "rq-2", 2001)
        payments.reserve(conn, first, payment_id, 3000, expect=states.REQUESTED)
        with pytest.raises(OverRefund, match=r"balance 2000 \(captured 5000, committed 3000\)"):
            payments.reserve(conn, second, payment_id, 2001, expect=states.REQUESTED)
        payments.reserve(conn, second, payment_id, 2000, expect=states.REQUESTED)


@pytest.mark.parametrize("state", HOLDING)
def test_a_refund_in_a_money_holding_state_counts(engine: sa.Engine, state: str) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        held = open_requested(conn, "rq-held", 4000)
        payments.reserve(conn, held, payment_id, 4000, expect=states.REQUESTED)
        force(conn, held, state=state)
        assert payments.committed(conn, payment_id) == 4000
        new = open_requested(conn, "rq-new", 1001)
        if state in states.IN_DOUBT:
            with pytest.raises(PaymentBusy, match=held):
                payments.reserve(conn, new, payment_id, 1001, expect=states.REQUESTED)
        else:
            with pytest.raises(OverRefund):
                payments.reserve(conn, new, payment_id, 1001, expect=states.REQUESTED)
            payments.reserve(conn, new, payment_id, 1000, expect=states.REQUESTED)


@pytest.mark.parametrize("state", NOT_HOLDING)
def test_a_refund_that_holds_no_money_does_not_count(engine: sa.Engine, state: str) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        gone = open_requested(conn, "rq-gone", 4000)
        force(conn, gone, state=state, payment_id=payment_id, approved_amount=4000)
        assert payments.committed(conn, payment_id) == 0
        new = open_requested(conn, "rq-new", 5000)
        payments.reserve(conn, new, payment_id, 5000, expect=states.REQUESTED)


def test_a_recorded_refund_counts_only_when_money_moved(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        moved, _ = ledger.open_refund(
            conn, request("rec-1", 1000), kind="recorded", state=states.RECORDED, money_moved=True
        )
        offline, _ = ledger.open_refund(conn, request("rec-2", 700), kind="recorded", state=states.RECORDED)
        ledger.attach_payment(conn, moved, payment_id)
        ledger.attach_payment(conn, offline, payment_id)
        assert payments.committed(conn, payment_id) == 1000
        ledger.supersede(conn, moved)  # another record of the same movement counts it
        assert payments.committed(conn, payment_id) == 0


def test_committed_is_per_payment_and_can_leave_one_refund_out(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first_payment = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        second_payment = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-2", 5000))
        a, b = open_requested(conn, "rq-a", 1000), open_requested(conn, "rq-b", 2000)
        c = ledger.open_refund(conn, request("rq-c", 300, reference="pay-2"), kind="requested", state="requested")[0]
        payments.reserve(conn, a, first_payment, 1000, expect=states.REQUESTED)
        payments.reserve(conn, b, first_payment, 2000, expect=states.REQUESTED)
        payments.reserve(conn, c, second_payment, 300, expect=states.REQUESTED)
        assert payments.committed(conn, first_payment) == 3000
        assert payments.committed(conn, first_payment, excluding=a) == 2000
        assert payments.committed(conn, first_payment, excluding=b) == 1000
        assert payments.committed(conn, second_payment) == 300
        assert payments.committed(conn, 999) == 0


def test_a_refund_may_be_reserved_again_without_counting_itself(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        refund_id = open_requested(conn, "rq-1", 5000)
        force(conn, refund_id, state=states.REVIEW, payment_id=payment_id, approved_amount=5000)
        payments.reserve(conn, refund_id, payment_id, 5000, expect=states.REVIEW)
        assert payments.committed(conn, payment_id) == 5000


def test_an_unknown_refund_blocks_the_payment_but_not_its_own_reservation(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        other_payment = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-2", 5000))
        doubt = open_requested(conn, "rq-doubt", 1000)
        force(conn, doubt, state=states.UNKNOWN, payment_id=payment_id, approved_amount=1000)
        new = open_requested(conn, "rq-new", 100)
        with pytest.raises(PaymentBusy, match="still unresolved"):
            payments.reserve(conn, new, payment_id, 100, expect=states.REQUESTED)
        assert ledger.get(conn, new).state == states.REQUESTED  # type: ignore[union-attr]
        payments.reserve(conn, new, other_payment, 100, expect=states.REQUESTED)  # another payment is free


def test_a_refund_that_changed_state_meanwhile_is_not_approved(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        refund_id = open_requested(conn, "rq-1", 1000)
        assert ledger.transition(conn, refund_id, states.REVIEW, expect=states.REQUESTED)  # the race is lost
        with pytest.raises(IllegalTransition, match="changed state while it was being approved"):
            payments.reserve(conn, refund_id, payment_id, 1000, expect=states.REQUESTED)
        row = ledger.get(conn, refund_id)
    assert row is not None
    assert (row.state, row.approved_amount) == (states.REVIEW, None)


def test_reserve_accepts_several_expected_states(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        refund_id = open_requested(conn, "rq-1", 1000)
        force(conn, refund_id, state=states.OFFERED)
        payments.reserve(conn, refund_id, payment_id, 800, expect=(states.REVIEW, states.OFFERED))
        assert ledger.get(conn, refund_id).approved_amount == 800  # type: ignore[union-attr]


def test_a_re_read_payment_is_marked_updated(engine: sa.Engine) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        conn.execute(sa.update(payment_rows).where(payment_rows.c.id == payment_id).values(updated_at=old))
        payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        updated = conn.execute(sa.select(payment_rows.c.updated_at).where(payment_rows.c.id == payment_id)).scalar_one()
    assert as_utc(updated) > old + timedelta(days=365)  # type: ignore[operator]


def test_a_refund_never_counts_against_itself(engine: sa.Engine) -> None:
    # an executing refund holds its amount; approving it again (executing → approved) must not
    # count that amount twice
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
        refund_id = open_requested(conn, "rq-1", 5000)
        payments.reserve(conn, refund_id, payment_id, 5000, expect=states.REQUESTED)
        force(conn, refund_id, state=states.EXECUTING)
        payments.reserve(conn, refund_id, payment_id, 5000, expect=states.EXECUTING)
        assert ledger.get(conn, refund_id).state == states.APPROVED  # type: ignore[union-attr]
        assert payments.committed(conn, payment_id) == 5000


def test_lock_reads_the_payment(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 4200, currency="EUR"))
        locked = payments.lock(conn, payment_id)
    assert (locked.id, locked.captured, locked.currency) == (payment_id, 4200, "EUR")


@pytest.mark.postgres
def test_on_postgresql_lock_holds_a_row_lock_until_the_transaction_ends(pg_engine: sa.Engine) -> None:
    upgrade(pg_engine)
    with pg_engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000))
    probe = sa.select(payment_rows.c.id).where(payment_rows.c.id == payment_id).with_for_update(nowait=True)
    with pg_engine.connect() as holder, pg_engine.connect() as other:
        holder.begin()
        payments.lock(holder, payment_id)
        other.begin()
        with pytest.raises(sa.exc.OperationalError, match="could not obtain lock"):
            other.execute(probe)
        other.rollback()
        holder.rollback()
        other.begin()
        assert other.execute(probe).scalar_one() == payment_id  # released with the transaction
        other.rollback()
