"""A migrated SQLite ledger, and the refund requests the ledger tests open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.engine import make_engine
from hub.db.migrate import upgrade
from hub.db.tables import refunds
from hub.ledger.records import Refund
from hub.models import Customer, OrderFacts, Payment, RefundRequest

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROUTE = "gateway:sandbox"


def payment_facts(reference: str = "pay-1", captured: int = 5000, currency: str = "USD") -> Payment:
    return Payment(platform_label="sandbox", reference=reference, captured=captured, currency=currency)


def request(source_ref: str, amount: int = 1000, *, store_id: str = "s1", reference: str = "pay-1") -> RefundRequest:
    return RefundRequest(
        connector="sandbox",
        store_id=store_id,
        order_id="o1",
        source_ref=source_ref,
        customer=Customer(id="c-1", email="A@x.io"),
        order=OrderFacts(created_at=NOW, currency="USD", total=5000, captured=5000),
        amount=amount,
        currency="USD",
        payments=(payment_facts(reference),),
        requested_at=NOW,
        delivery_id="d-1",
    )


def approved(conn: sa.Connection, source_ref: str = "rq-1", amount: int = 1000) -> str:
    """An approved refund of ``amount`` on a payment with room for it."""
    from hub.ledger import payments, states
    from hub.ledger import refunds as ledger

    payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 100_000))
    refund_id = ledger.open_refund(conn, request(source_ref, amount), kind="requested", state=states.REQUESTED)[0]
    payments.reserve(conn, refund_id, payment_id, amount, expect=states.REQUESTED)
    return refund_id


def get(conn: sa.Connection, refund_id: str) -> Refund:
    from hub.ledger import refunds as ledger

    row = ledger.get(conn, refund_id)
    assert row is not None
    return row


def force(conn: sa.Connection, refund_id: str, **values: Any) -> None:
    """Put a refund row where a test needs it, bypassing the state machine."""
    conn.execute(sa.update(refunds).where(refunds.c.id == refund_id).values(**values))


@pytest.fixture
def engine(tmp_path: Any) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
