"""Two reconciliations of one store at the same moment (a janitor and a person's "Run now", or two
janitors) repair each safe drift exactly once, on SQLite and PostgreSQL.

The race is made, not hoped for: the store's listing answers neither run until both have asked,
so both have compared the gateway — and both have found the dashboard refund unknown — before
either repairs anything; then both compare the store and both find the write-back missing. What
stops the second import or the second write-back is the repair's unique key (``reconcile_repairs``
(subject, action), claimed in the transaction that makes the repair): the loser's report says
``already_repaired``, which only a refused claim writes."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from flask import request
from sqlalchemy import func, select

from hub.db.tables import audit, jobs, refunds
from hub.db.tables_reconcile import reconcile_repairs
from hub.ledger import reconcile as books
from hub.reconcile.run import Report, reconcile
from tests.gateways.conftest import STORE, GatewayWorld
from tests.reconcile import scenes

ROUNDS = 3


def _both_ask_the_store_first(w: GatewayWorld) -> None:
    """The store's refund listing waits until two readers have asked for the same page."""
    meet = threading.Barrier(2, timeout=60)

    def hold() -> None:
        if request.path == "/refunds":
            meet.wait()

    w.platform.app.before_request_funcs.setdefault(None, []).insert(0, hold)


def _twice_at_once(w: GatewayWorld) -> list[Report]:
    now = datetime.now(UTC) + timedelta(hours=2)  # past SETTLING for every refund of the round

    def run(_: int) -> Report:
        return reconcile(w.hub.hub, STORE, now - timedelta(days=30), sleep=lambda s: None, now=now)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(run, range(2)))


def _count(w: GatewayWorld, query: object) -> int:
    with w.hub.hub.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_two_runs_at_once_repair_each_safe_drift_once(world: GatewayWorld) -> None:
    w = world
    _both_ask_the_store_first(w)
    repaired: list[tuple[str, str]] = []
    for n in range(ROUNDS):
        payment, _ = scenes.paid(w, f"76{n}1", 1000, f"rq-paid-{n}", captured=9000)
        dashboard = w.case.dashboard_refund(w.sim, payment, 700 + n)
        lost = scenes.unwritten(w, f"76{n}2", 2000, f"rq-lost-{n}", age=timedelta(hours=2))

        reports = _twice_at_once(w)

        import_key = (f"gateway:{w.case.account}:{dashboard}", books.IMPORT)
        write_key = (lost, books.WRITE_BACK)
        outcomes = {key: Counter[str]() for key in (import_key, write_key)}
        for report in reports:
            for drift in report.drifts:
                key = books.repair_key(drift)
                if key in outcomes:
                    outcomes[key][drift.resolution or "none"] += 1
        # both runs found both drifts; one repaired each, the other was refused the claim
        assert outcomes[import_key] == {books.IMPORTED: 1, books.ALREADY_REPAIRED: 1}
        assert outcomes[write_key] == {books.WRITE_BACK_QUEUED: 1, books.ALREADY_REPAIRED: 1}
        # the ledger: one recorded refund, one audit entry of its import, one write-back job
        assert _count(w, select(func.count()).where(refunds.c.gateway_refund_id == dashboard)) == 1
        imported = audit.c.action == "outside_refund_imported"
        assert (
            _count(
                w, select(func.count()).where(imported, audit.c.detail["gateway_refund_id"].as_string() == dashboard)
            )
            == 1
        )
        open_jobs = select(func.count()).where(
            jobs.c.subject_id == lost, jobs.c.kind == "write_back", jobs.c.state != "done"
        )
        assert _count(w, open_jobs) == 1
        repaired += [import_key, write_key]
        # what came before is still repaired once: both runs were refused the earlier rounds' claims
        for key in repaired[:-2]:
            if key[1] == books.WRITE_BACK:  # its job has not run: still drifting, never queued again
                assert all(
                    d.resolution == books.ALREADY_REPAIRED
                    for r in reports
                    for d in r.drifts
                    if books.repair_key(d) == key
                )

    with w.hub.hub.engine.connect() as conn:
        rows = conn.execute(select(reconcile_repairs.c.subject, reconcile_repairs.c.action)).all()
    assert sorted((r.subject, r.action) for r in rows) == sorted(repaired)  # one row each, none twice
