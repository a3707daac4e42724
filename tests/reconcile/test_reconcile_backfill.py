"""``backfill`` imports a store's history from the platform and each gateway (Stripe, PayPal,
Square) as recorded refunds, each
money movement once whichever side names it, and a second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.ledger import states
from hub.reconcile.backfill import backfill
from hub.reconcile.run import reconcile
from tests.gateways.conftest import STORE, GatewayWorld

LONG_AGO = datetime.now(UTC) - timedelta(days=60)


def _at_gateway(w: GatewayWorld, payment: str, amount: int) -> str:
    """A refund made at the gateway two months ago (no hub metadata, no webhook to the hub)."""
    refund_id = w.case.dashboard_refund(w.sim, payment, amount)
    w.sim.ledger.refunds[refund_id].created = LONG_AGO.timestamp()
    return refund_id


def _ledger(w: GatewayWorld) -> list[tuple[Any, ...]]:
    rows = w.hub.refunds()
    return sorted((r.id, r.kind, r.state, r.amount, r.money_moved, r.gateway_refund_id, r.source_ref,
                   r.payment_id, r.created_at) for r in rows)  # fmt: skip


def test_history_from_both_sides_is_imported_once_and_twice_is_the_same(any_world: GatewayWorld) -> None:
    w = any_world
    # A: the store recorded a refund the gateway made, naming the gateway's refund id
    pay_a = w.order("8001", 5000)
    named = _at_gateway(w, pay_a, 1500)
    w.platform.add_refund_record("8001", 1500, gateway_refund_id=named, at=LONG_AGO)
    # B: the store recorded one without naming it; the gateway has the same money on the same payment
    pay_b = w.order("8002", 4000)
    unnamed = _at_gateway(w, pay_b, 700)
    w.platform.add_refund_record("8002", 700, at=LONG_AGO)
    # C: one refund known to both, and one made at the gateway only
    pay_c = w.order("8003", 3000)
    both = _at_gateway(w, pay_c, 1000)
    only_gateway = _at_gateway(w, pay_c, 500)
    w.platform.add_refund_record("8003", 1000, gateway_refund_id=both, at=LONG_AGO)
    # D: a refund the hub made itself (its record and its gateway refund name the hub's id)
    w.order("8004", 2000)
    w.ask("8004", 2000, request_id="rq-hub")
    w.settle(until=w.in_state("rq-hub", states.WRITTEN_BACK))
    before = len(w.hub.refunds())

    counts = backfill(w.hub.hub, STORE, datetime.now(UTC) - timedelta(days=180), sleep=lambda s: None)
    assert counts["platform_imported"] == 3
    assert counts["platform_known"] == 1
    assert counts["gateway_imported"] == 1
    assert counts["gateway_linked"] == 1
    assert counts["gateway_known"] == 3  # A's and C's named refund, and D's own

    recorded = {r.gateway_refund_id: r for r in w.hub.refunds() if r.kind == "recorded"}
    assert set(recorded) == {named, unnamed, both, only_gateway}
    assert len(w.hub.refunds()) == before + 4
    assert all(r.state == states.RECORDED and r.money_moved for r in recorded.values())
    only = recorded[only_gateway]  # under the store's connector (its people see it), told apart by its source
    assert (only.connector, only.source_ref) == ("sandbox", f"gateway:{only_gateway}")
    assert only.request["reported_by"] == f"gateway:{w.case.account}"
    assert all(abs(r.created_at.replace(tzinfo=UTC) - LONG_AGO) < timedelta(seconds=2) for r in recorded.values())
    for payment in (pay_a, pay_b, pay_c):  # each payment's money counted once: as the gateway has it
        ids = {r.payment_id for r in recorded.values() if r.gateway_refund_id in _ids_at(w, payment)}
        [payment_id] = ids
        in_ledger = sum(r.amount for r in w.hub.refunds() if r.payment_id == payment_id and r.money_moved)
        assert in_ledger == sum(r.amount for r in w.gateway_refunds(payment))

    first = _ledger(w)
    again = backfill(w.hub.hub, STORE, datetime.now(UTC) - timedelta(days=180), sleep=lambda s: None)
    assert _ledger(w) == first
    assert set(again) <= {"platform_known", "gateway_known"}
    # and the books now agree with both sides
    assert reconcile(w.hub.hub, STORE, datetime.now(UTC) - timedelta(days=180)).drifts == []


def _ids_at(w: GatewayWorld, payment: str) -> set[str]:
    return {r.id for r in w.gateway_refunds(payment)}
