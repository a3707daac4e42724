"""Each kind of drift between the ledger, Stripe and the store is found, reported with an action,
and the safe ones repaired exactly once (reconcile run twice)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.db.tables import jobs
from hub.ledger import reconcile as books
from hub.ledger import states
from hub.ledger.unit import read
from hub.reconcile.run import reconcile
from tests.gateways.conftest import STORE, GatewayWorld
from tests.reconcile import scenes

SINCE = timedelta(days=30)


def _reconcile(w: GatewayWorld, *, later: timedelta = timedelta(0)) -> list[books.Drift]:
    """Reconcile now (or ``later``: a refund that just succeeded is the pipeline's for an hour)."""
    now = datetime.now(UTC) + later
    return reconcile(w.hub.hub, STORE, now - SINCE, sleep=lambda s: None, now=now).drifts


def test_a_ledger_that_agrees_reports_nothing(world: GatewayWorld) -> None:
    scenes.paid(world, "7001", 3000, "rq-clean")
    report = reconcile(world.hub.hub, STORE, datetime.now(UTC) - SINCE)
    assert report.drifts == []
    assert report.errors == []
    with read(world.hub.hub.engine) as conn:
        [run] = books.runs(conn, store_id=STORE)
    assert run.id == report.run_id
    assert run.counts == {}
    assert run.finished_at is not None


def test_a_dashboard_refund_is_imported_once_as_recorded(any_world: GatewayWorld) -> None:
    w = any_world
    payment, _ = scenes.paid(w, "7002", 1000, "rq-first", captured=9000)
    dashboard_id = w.case.dashboard_refund(w.sim, payment, 2500)  # no status webhook reaches the hub
    [drift] = _reconcile(w)
    assert (drift.kind, drift.outside_id, drift.outside_amount, drift.resolution) == (
        books.UNKNOWN_AT_LEDGER, dashboard_id, 2500, books.IMPORTED,
    )  # fmt: skip
    assert drift.source == f"gateway:{w.case.account}"
    assert "import" in drift.action
    recorded = [r for r in w.hub.refunds() if r.kind == "recorded"]
    assert [(r.state, r.amount, r.gateway_refund_id, r.money_moved, r.id) for r in recorded] == [
        (states.RECORDED, 2500, dashboard_id, True, drift.refund_id)
    ]
    assert _reconcile(w) == []  # known now: nothing to report, nothing imported again
    assert len([r for r in w.hub.refunds() if r.kind == "recorded"]) == 1


def test_a_ledger_refund_the_gateway_does_not_list_is_reported(world: GatewayWorld) -> None:
    w = world
    payment, refund_id = scenes.paid(w, "7003", 4000, "rq-vanished")
    [at_gateway] = w.gateway_refunds(payment)
    w.sim.ledger.refunds.pop(at_gateway.id)  # the gateway has no trace of it
    w.sim.ledger.payment(payment).refund_ids.remove(at_gateway.id)
    kinds = {(d.kind, d.refund_id) for d in _reconcile(w)}
    assert (books.MISSING_AT_GATEWAY, refund_id) in kinds
    assert (books.PAYMENT_TOTAL_MISMATCH, None) in kinds  # the payment's refunded total: 0 at Stripe


def test_amount_and_state_mismatches_are_reported_not_repaired(world: GatewayWorld) -> None:
    w = world
    payment, refund_id = scenes.paid(w, "7004", 5000, "rq-changed")
    [at_gateway] = w.gateway_refunds(payment)
    at_gateway.amount = 4000  # the gateway holds another amount...
    found = {d.kind: d for d in _reconcile(w) if d.refund_id == refund_id}
    assert found[books.AMOUNT_MISMATCH].ledger_amount == 5000
    assert found[books.AMOUNT_MISMATCH].outside_amount == 4000
    assert found[books.AMOUNT_MISMATCH].resolution is None
    at_gateway.amount, at_gateway.status = 5000, "failed"  # ...then says it failed
    found = {d.kind: d for d in _reconcile(w) if d.refund_id == refund_id}
    assert set(found) == {books.STATE_MISMATCH}
    assert found[books.STATE_MISMATCH].outside_state == "failed"
    assert "came back" in found[books.STATE_MISMATCH].action
    assert w.refund("rq-changed").state == states.WRITTEN_BACK  # a report, never a silent rewrite


def test_a_missing_write_back_is_queued_once(world: GatewayWorld) -> None:
    w = world
    refund_id = scenes.unwritten(w, "7005", 2000, "rq-unwritten", age=timedelta(0))
    assert w.refund("rq-unwritten").state == states.SUCCEEDED
    assert w.platform.refunds["7005"] == []

    assert _reconcile(w) == []  # just paid: its write-back is still the pipeline's
    [drift] = _reconcile(w, later=timedelta(hours=2))
    assert (drift.kind, drift.refund_id, drift.resolution) == (
        books.PLATFORM_RECORD_MISSING, refund_id, books.WRITE_BACK_QUEUED,
    )  # fmt: skip
    [again] = _reconcile(w, later=timedelta(hours=2))  # the job has not run yet: never queued a second time
    assert again.resolution == books.ALREADY_REPAIRED
    assert "person" in again.action
    assert _open_jobs(w) == [("write_back", refund_id)]

    w.settle(sweep=False)
    assert w.refund("rq-unwritten").state == states.WRITTEN_BACK
    assert [r["hub_refund_id"] for r in w.platform.refunds["7005"]] == [refund_id]
    assert _reconcile(w, later=timedelta(hours=2)) == []


def _open_jobs(w: GatewayWorld) -> list[tuple[str, str]]:
    with w.hub.hub.engine.begin() as conn:
        rows = conn.execute(select(jobs.c.kind, jobs.c.subject_id).where(jobs.c.state != "done"))
        return [(row.kind, row.subject_id) for row in rows]


def test_platform_records_missing_doubled_and_unknown_are_reported(world: GatewayWorld) -> None:
    w = world
    _, lost = scenes.paid(w, "7006", 1000, "rq-lost-record")
    _, doubled = scenes.paid(w, "7007", 1200, "rq-doubled")
    w.platform.refunds["7006"].clear()  # someone deleted the store's record
    w.platform.add_refund_record("7007", 1200, hub_refund_id=doubled)  # ...and copied another
    stray = w.platform.add_refund_record("7007", 300)  # a refund recorded in the store's admin, no webhook
    found = {(d.kind, d.refund_id or d.outside_id): d for d in _reconcile(w)}
    assert set(found) == {
        (books.PLATFORM_RECORD_MISSING, lost),
        (books.PLATFORM_RECORD_DOUBLED, doubled),
        (books.UNKNOWN_PLATFORM_RECORD, stray["id"]),
    }
    assert all(d.resolution is None for d in found.values())  # none of these is the hub's to fix
    assert "by hand" in found[(books.PLATFORM_RECORD_MISSING, lost)].action
    assert len(found[(books.PLATFORM_RECORD_DOUBLED, doubled)].detail["records"]) == 2
    assert "backfill" in found[(books.UNKNOWN_PLATFORM_RECORD, stray["id"])].action


def test_the_report_is_stored_and_reads_back(world: GatewayWorld) -> None:
    w = world
    payment, _ = scenes.paid(w, "7008", 1000, "rq-report", captured=6000)
    w.sim.dashboard_refund(payment, 1000)
    report = reconcile(w.hub.hub, STORE, datetime.now(UTC) - SINCE)
    with read(w.hub.hub.engine) as conn:
        [run] = books.runs(conn, store_id=STORE)
        assert books.items(conn, run.id) == report.drifts
    assert run.counts == {books.UNKNOWN_AT_LEDGER: 1, books.IMPORTED: 1}


def test_a_stored_report_downloads_as_csv(world: GatewayWorld) -> None:
    w = world
    payment, _ = scenes.paid(w, "7009", 1000, "rq-download", captured=4000)
    w.sim.dashboard_refund(payment, 600)
    report = reconcile(w.hub.hub, STORE, datetime.now(UTC) - SINCE)
    operator = {"Authorization": "Bearer test-admin-token"}
    answer = w.hub.client.get(f"/api/exports/reconcile/{report.run_id}.csv", headers=operator)
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    [row] = csv.DictReader(io.StringIO(answer.get_data(as_text=True)))
    assert (row["kind"], row["outside_amount"], row["resolution"]) == (books.UNKNOWN_AT_LEDGER, "600", books.IMPORTED)
    assert w.hub.client.get("/api/exports/reconcile/rc_nope.csv", headers=operator).status_code == 404
    assert w.hub.client.get(f"/api/exports/reconcile/{report.run_id}.csv").status_code == 401


def test_a_pending_refund_on_both_sides_is_no_drift(world: GatewayWorld) -> None:
    w = world
    w.sim.ledger.settle_after = 600  # the gateway keeps it pending
    payment = w.order("7010", 3000)
    w.ask("7010", 1200, request_id="rq-pending")
    w.settle(until=w.in_state("rq-pending", states.PENDING), sweep=False)
    [at_gateway] = w.gateway_refunds(payment)
    assert at_gateway.status == "pending"
    assert _reconcile(w, later=timedelta(hours=2)) == []  # counted as the gateway counts it: held
