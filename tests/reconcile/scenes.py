"""Drift made at the source, for the reconciliation tests and the console's: orders paid at the
gateway and refunded through the hub, then the gateway's or the store's side changed behind the
hub's back — a refund made in the gateway's dashboard, a gateway record gone or changed, a store
record deleted, copied or added by hand, a write-back that never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from hub.db.tables import jobs, refunds
from hub.ledger import states
from hub.work.runner import drain
from tests.gateways.conftest import GatewayWorld


def paid(
    w: GatewayWorld, order_id: str, amount: int, request_id: str, *, captured: int | None = None
) -> tuple[str, str]:
    """An order paid at the gateway (``captured``, default ``amount``), ``amount`` of it refunded
    through the hub and written back; (payment, refund id)."""
    payment = w.order(order_id, captured or amount)
    w.ask(order_id, amount, request_id=request_id)
    w.settle(until=w.in_state(request_id, states.WRITTEN_BACK))
    return payment, w.refund(request_id).id


def drain_until(w: GatewayWorld, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """The worker alone (no janitor), until ``done``."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the hub did not get there in time"
        drain(w.hub.hub)
        time.sleep(0.05)


def lose_jobs(w: GatewayWorld) -> None:
    """Every open job gone, as if its queue row were lost (the write-back never comes)."""
    with w.hub.hub.engine.begin() as conn:
        conn.execute(update(jobs).values(state="done"))


def unwritten(w: GatewayWorld, order_id: str, amount: int, request_id: str, *, age: timedelta) -> str:
    """A refund paid at the gateway whose write-back to the store never happened (the store
    refused it and the job was lost), last changed ``age`` ago; its id."""
    w.order(order_id, amount)
    w.platform.faults.add("error", status=500, method="POST", path=rf"^/orders/{order_id}/refunds$", times=10_000)
    w.ask(order_id, amount, request_id=request_id)
    drain_until(w, w.in_state(request_id, states.SUCCEEDED))
    lose_jobs(w)
    w.platform.faults.clear()
    refund_id: str = w.refund(request_id).id
    if age:
        with w.hub.hub.engine.begin() as conn:
            row = conn.execute(refunds.select().where(refunds.c.id == refund_id)).one()
            conn.execute(update(refunds).where(refunds.c.id == refund_id).values(updated_at=row.updated_at - age))
    return refund_id


@dataclass(frozen=True)
class EveryKind:
    """What ``every_kind`` made, by the drift each thing is."""

    dashboard_refund: str  # unknown_at_ledger, imported
    vanished: str  # missing_at_gateway (and its payment's total)
    changed_amount: str  # amount_mismatch
    failed_later: str  # state_mismatch
    unwritten: str  # platform_record_missing, write-back queued
    record_deleted: str  # platform_record_missing, for a person
    record_doubled: str  # platform_record_doubled
    stray_record: str  # unknown_platform_record (the store's record id)


def every_kind(w: GatewayWorld) -> EveryKind:
    """One of every kind of drift on the world's store (Stripe's simulator)."""
    payment, _ = paid(w, "7101", 1000, "rq-dashboard", captured=9000)
    dashboard = w.case.dashboard_refund(w.sim, payment, 2500)  # no status webhook reaches the hub
    payment, vanished = paid(w, "7102", 4000, "rq-vanished")
    [gone] = w.gateway_refunds(payment)
    w.sim.ledger.refunds.pop(gone.id)
    w.sim.ledger.payment(payment).refund_ids.remove(gone.id)
    payment, changed = paid(w, "7103", 5000, "rq-changed")
    w.gateway_refunds(payment)[0].amount = 4000
    payment, failed = paid(w, "7104", 3000, "rq-failed-later")
    w.gateway_refunds(payment)[0].status = "failed"
    _, deleted = paid(w, "7105", 1000, "rq-record-deleted")
    w.platform.refunds["7105"].clear()
    _, doubled = paid(w, "7106", 1200, "rq-doubled")
    w.platform.add_refund_record("7106", 1200, hub_refund_id=doubled)
    stray = w.platform.add_refund_record("7106", 300)  # recorded in the store's admin, no webhook
    lost = unwritten(w, "7107", 2000, "rq-unwritten", age=timedelta(hours=2))
    return EveryKind(dashboard, vanished, changed, failed, lost, deleted, doubled, stray["id"])
