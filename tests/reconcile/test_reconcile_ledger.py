"""The ledger's side of reconciliation on SQLite and PostgreSQL: a repair is claimed once whoever
asks, an outside refund is imported once and keeps the vendor's time, a report reads back as
stored, and a record and its gateway refund are linked rather than counted twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.ledger import payments, states
from hub.ledger import reconcile as books
from hub.ledger import refunds as ledger
from hub.ledger.records import Payment
from hub.models import Payment as PaymentFacts
from tests.ledger.conftest import request

ROUTE = "gateway:stripe-main"
WHEN = datetime(2026, 9, 1, 8, tzinfo=UTC)


@pytest.fixture
def engine(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


def _payment(conn: sa.Connection) -> Payment:
    facts = PaymentFacts(platform_label="card", reference="pi_1", captured=9000, currency="USD")
    payments.upsert(conn, "s1", ROUTE, facts)
    found = books.payment_of(conn, "s1", ROUTE, "pi_1")
    assert found is not None
    return found


def test_a_repair_is_claimed_once(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert books.repair_once(conn, "rf_1", "write_back", "rc_a") is True
        assert books.repair_once(conn, "rf_1", "write_back", "rc_b") is False
        assert books.repair_once(conn, "rf_1", "import", "rc_b") is True  # another action on it is its own


def test_an_outside_refund_is_imported_once_at_the_vendors_time(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment = _payment(conn)
        seen = {"connector": "sandbox", "account": "stripe-main", "gateway_refund_id": "re_1", "currency": "USD",
                "actor": "test"}  # fmt: skip
        first = books.import_outside_refund(conn, payment, **seen, amount=1500, created_at=WHEN)
        again = books.import_outside_refund(conn, payment, **seen, amount=1500, created_at=WHEN)
        row = ledger.get(conn, first[0])
        assert first[1] is True
        assert again == (first[0], False)
        assert row is not None
        assert (row.state, row.money_moved, row.connector, row.created_at) == (
            states.RECORDED,
            True,
            "sandbox",  # the store's connector, so the store's people see it
            WHEN,
        )
        assert books.money_moved_on(conn, payment.id) == 1500
        assert [r.id for r in books.store_refunds(conn, "sandbox", "s1", WHEN - timedelta(days=1))] == [first[0]]
        assert books.store_refunds(conn, "sandbox", "s1", WHEN + timedelta(days=1)) == []


def test_a_record_without_a_gateway_id_is_found_and_linked(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment = _payment(conn)
        record_id, _ = ledger.open_refund(conn, request("sr-1", 700, reference="pi_1"), kind="recorded",
                                          state=states.RECORDED, money_moved=True)  # fmt: skip
        ledger.attach_payment(conn, record_id, payment.id)
        twin = books.untagged_record(conn, payment.id, 700)
        assert twin is not None
        assert twin.id == record_id
        assert books.untagged_record(conn, payment.id, 701) is None
        books.link_gateway_refund(conn, record_id, "re_7", "test")
        assert books.untagged_record(conn, payment.id, 700) is None  # linked: no longer a candidate
        known = books.find_known(conn, "sandbox", "s1", gateway_refund_id="re_7")
        assert known is not None
        assert known.id == record_id
        assert books.find_known(conn, "sandbox", "s1", source_ref="sr-1") == known
        assert books.find_known(conn, "sandbox", "other-store", gateway_refund_id="re_7") is None


def test_a_report_reads_back_as_stored(engine: sa.Engine) -> None:
    drift = books.Drift(books.AMOUNT_MISMATCH, "gateway:stripe-main", "check it", refund_id="rf_1",
                        outside_id="re_1", currency="USD", ledger_amount=500, outside_amount=400,
                        detail={"why": "test"})  # fmt: skip
    with engine.begin() as conn:
        run_id = books.start_run(conn, "reconcile", "sandbox", "s1", WHEN)
        books.add_items(conn, run_id, [drift])
        books.finish_run(conn, run_id, {books.AMOUNT_MISMATCH: 1}, None)
    with engine.connect() as conn:
        [run] = books.runs(conn, connector="sandbox", store_id="s1")
        assert (run.id, run.kind, run.since, run.counts, run.error) == (
            run_id, "reconcile", WHEN, {books.AMOUNT_MISMATCH: 1}, None,
        )  # fmt: skip
        assert books.items(conn, run_id) == [drift]
