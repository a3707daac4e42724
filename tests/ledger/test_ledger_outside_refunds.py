"""Refunds a gateway reported and nobody in the hub made carry the store's own connector, so the
people scoped to that store see them; migration 0017 moves the rows stored before that."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import refunds, stores
from hub.ledger import payments, states
from hub.ledger import refunds as ledger
from hub.ledger.people import StoreScope
from hub.ledger.records import Payment, Refund, from_row
from tests.ledger.conftest import payment_facts, request

ROUTE = "gateway:stripe-main"
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _payment(conn: sa.Connection, store_id: str = "s1", reference: str = "pay-1") -> Payment:
    payment = payments.lock(conn, payments.upsert(conn, store_id, ROUTE, payment_facts(reference, 5000)))
    assert isinstance(payment, Payment)
    return payment


def _store(conn: sa.Connection, connector: str, store_id: str) -> None:
    conn.execute(sa.insert(stores).values(connector=connector, store_id=store_id, settings={}, credentials="",
                                          routes={}, source="config", created_at=AT, updated_at=AT))  # fmt: skip


def test_the_connector_is_that_of_the_stores_own_refund_on_the_payment(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        payment = _payment(conn)
        _store(conn, "woocommerce", "s1")  # a namesake elsewhere does not outvote the payment's own refunds
        asked = request("rq-1").model_copy(update={"connector": "magento"})
        refund_id, _ = ledger.open_refund(conn, asked, kind="requested", state=states.REQUESTED)
        ledger.attach_payment(conn, refund_id, payment.id)
        assert ledger.connector_of_payment(conn, payment) == "magento"


def test_without_a_refund_the_one_store_of_that_id_tells_and_two_do_not(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    with any_engine.begin() as conn:
        lonely = _payment(conn, "s1", "pay-1")
        shared = _payment(conn, "s2", "pay-2")
        _store(conn, "shopify", "s1")
        _store(conn, "shopify", "s2")
        _store(conn, "woocommerce", "s2")
        assert ledger.connector_of_payment(conn, lonely) == "shopify"
        assert ledger.connector_of_payment(conn, shared) is None


def test_a_store_scoped_person_sees_the_dashboard_refund_of_their_store(any_engine: sa.Engine) -> None:
    upgrade(any_engine)
    scope = StoreScope(stores=frozenset({("shopify", "s1")}))
    with any_engine.begin() as conn:
        payment = _payment(conn)
        refund_id = ledger.open_outside_refund(conn, payment, connector="shopify", source=ROUTE,
                                               gateway_refund_id="re_1", amount=700, currency=None,
                                               delivery_id=None)  # fmt: skip
        seen = conn.execute(sa.select(refunds.c.id).where(scope.clause(refunds.c.connector, refunds.c.store_id)))
        assert [row.id for row in seen] == [refund_id]
        row = conn.execute(sa.select(refunds).where(refunds.c.id == refund_id)).one()
        assert conn.execute(sa.select(ledger.is_outside()).select_from(refunds)).scalar_one() is True
        assert ledger.came_from_gateway(from_row(Refund, row)) is True


def _legacy_row(conn: sa.Connection, refund_id: str, connector: str, payment_id: int, source_ref: str,
                kind: str = "recorded") -> None:  # fmt: skip
    conn.execute(sa.insert(refunds).values(
        id=refund_id, connector=connector, store_id="s1", source_ref=source_ref, order_id="", kind=kind,
        state="recorded", money_moved=True, amount=500, approved_amount=500, currency="USD",
        payment_id=payment_id, route=ROUTE, idempotency_key=f"rh-{refund_id}", request={}, attempts=0,
        needs_person=False, created_at=AT, updated_at=AT,
    ))  # fmt: skip


def test_migration_0017_moves_outside_refunds_to_their_stores_connector(any_engine: sa.Engine) -> None:
    upgrade(any_engine, "0016_analytics_index")
    with any_engine.begin() as conn:
        known = _payment(conn, "s1", "pay-1")
        orphan = _payment(conn, "s1", "pay-2")
        _legacy_row(conn, "rf_store", "shopify", known.id, "5001", kind="requested")
        _legacy_row(conn, "rf_dash", ROUTE, known.id, "gateway:re_1")
        _legacy_row(conn, "rf_orphan", ROUTE, orphan.id, "gateway:re_2")
    upgrade(any_engine)
    with any_engine.connect() as conn:
        found = dict(conn.execute(sa.select(refunds.c.id, refunds.c.connector)).tuples().all())
    assert found == {"rf_store": "shopify", "rf_dash": "shopify", "rf_orphan": ROUTE}
