"""Survivors of bench/mutation.py in hub/pipeline/execute.py: the call's lines follow the policy's
per-line decision — the one given (a part's is its refund's), else the row's own; an ``unknown``
refund is taken again only when a resend is asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hub.db.tables import refunds
from hub.ledger import payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.models import Line, OrderFacts, Payment, ReasonCode, RefundRequest
from hub.pipeline.execute import execution_for, take
from tests.hub.conftest import STORE, World

# the policy gave the first line back in full and nothing for the second (a digital good)
FIRST_ONLY = {"decision": {"line_amounts": [["l1", 3000], ["l2", 0]]}}


def two_lines_approved(w: World, order_id: str, decision: dict[str, Any] | None = None) -> Refund:
    reference = w.order(order_id, 5000)
    now = datetime.now(UTC)
    request = RefundRequest(
        connector="sandbox",
        store_id=STORE,
        order_id=order_id,
        source_ref=f"rq-{order_id}",
        order=OrderFacts(created_at=now, currency="USD", total=5000, captured=5000),
        lines=(Line(line_id="l1", quantity=1, unit_price=3000), Line(line_id="l2", quantity=1, unit_price=2000)),
        amount=3000,
        currency="USD",
        reason=ReasonCode.DAMAGED,
        payments=(Payment(platform_label="sandbox", reference=reference, captured=5000, currency="USD"),),
        requested_at=now,
    )
    with w.hub.hub.engine.begin() as conn:
        refund_id, _ = ledger.open_refund(conn, request, kind="requested", state=states.REQUESTED)
        payment_id = payments.upsert(conn, STORE, "gateway:sandbox", request.payments[0])
        ledger.set_payment(conn, refund_id, payment_id, "gateway:sandbox")
        payments.reserve(conn, refund_id, payment_id, 3000, expect=states.REQUESTED)
        conn.execute(sa.update(refunds).where(refunds.c.id == refund_id).values(decision=decision))
        found = ledger.get(conn, refund_id)
    assert found is not None
    return found


def test_the_given_decision_says_which_lines_go_back(world: World) -> None:
    row = two_lines_approved(world, "7101")  # the row itself has no per-line decision
    execution = execution_for(row, None, FIRST_ONLY)
    assert [line.line_id for line in execution.lines] == ["l1"]
    assert execution.line_amounts == {"l1": 3000}
    assert [line.line_id for line in execution_for(row).lines] == ["l1", "l2"]  # no decision: every line


def test_without_one_the_rows_own_decision_is_used(world: World) -> None:
    row = two_lines_approved(world, "7102", FIRST_ONLY)
    execution = execution_for(row)
    assert ([line.line_id for line in execution.lines], execution.line_amounts) == (["l1"], {"l1": 3000})
    everything = execution_for(row, None, {})  # a decision given, even an empty one, wins over the row's
    assert ([line.line_id for line in everything.lines], everything.line_amounts) == (["l1", "l2"], {})


def test_an_unknown_refund_is_not_taken_unless_a_resend_is_asked(world: World) -> None:
    row = two_lines_approved(world, "7103")
    with world.hub.hub.engine.begin() as conn:
        conn.execute(sa.update(refunds).where(refunds.c.id == row.id).values(state=states.UNKNOWN, attempts=1))
        assert take(conn, row.id, timedelta(seconds=300)).claimed is False  # the default: no resend
        assert take(conn, row.id, timedelta(seconds=300), resend=True).claimed is True
