"""The periodic janitor: what a lost job, a dead worker or a silent platform left behind.

Each sweep (every step is a compare-and-set, so several janitors may run at once):
1. executions whose lease expired become ``unknown`` (the call may have gone out);
2. ``pending``/``unknown`` refunds are resolved by asking the gateway (or platform); an
   ``unknown`` one with no trace after the grace period is re-sent with the SAME key;
3. refunds stuck ``requested`` are decided, ``succeeded`` ones not written back are re-driven;
4. runnable jobs wake a worker (a queue message may have been lost);
5. stores that cannot push are polled, webhook subscriptions checked;
6. old processed deliveries and finished jobs are pruned (dedupe keys outlive retries ≥ 7 days).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.contracts import Outcome, RefundLookup
from hub.db.engine import recoverable
from hub.db.tables import audit as audit_table
from hub.db.tables import deliveries, refunds
from hub.ingest.writer import DEAD, RECEIVED
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.models import RefundRequest
from hub.pipeline.routing import gateway_account
from hub.runtime.bootstrap import Hub
from hub.work import jobs
from hub.work.runner import DECIDE, RESEND

log = logging.getLogger(__name__)
CURSOR_KEY = "poll_cursor"


def sweep(hub: Hub, now: datetime | None = None) -> Counter[str]:
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    counts["expired"] = expire_executions(hub, now)
    counts.update(resolve_unsettled(hub, now))
    counts.update(redrive_stuck(hub, now))
    counts.update(poll_stores(hub))
    counts["pruned"] = prune(hub, now)
    with recoverable(hub.engine) as conn:
        counts["runnable"] = jobs.runnable(conn)
    if counts["runnable"]:
        hub.dispatcher.wake()
    return counts


def expire_executions(hub: Hub, now: datetime) -> int:
    with recoverable(hub.engine) as conn:
        expired = ledger.expired_executions(conn, now)
        for refund_id in expired:
            if ledger.transition(conn, refund_id, states.UNKNOWN, expect=states.EXECUTING, lease_until=None):
                audit.write(
                    conn,
                    "janitor",
                    "lease_expired",
                    refund_id=refund_id,
                    note="worker stopped during execution; asking the gateway",
                )
    return len(expired)


def resolve_unsettled(hub: Hub, now: datetime) -> Counter[str]:
    from hub.pipeline.execute import apply_result
    from hub.pipeline.writeback import WriteBackFailed, write_back

    counts: Counter[str] = Counter()
    with recoverable(hub.engine) as conn:
        rows = conn.execute(
            select(refunds)
            .where(refunds.c.state.in_((states.PENDING, states.UNKNOWN)))
            .order_by(refunds.c.updated_at)
            .limit(200)
        ).all()
    for row in rows:
        result = lookup(hub, row)
        if result is None or result.outcome in (Outcome.UNKNOWN, Outcome.UNAVAILABLE):
            if row.state == states.UNKNOWN and result is None:
                counts[no_trace(hub, row, now)] += 1
            continue
        if result.outcome.value == row.state:
            continue
        state = apply_result(hub, row.id, result, expect=row.state, actor="janitor")
        counts[f"resolved_{state}"] += 1
        if state == states.SUCCEEDED:
            try:
                write_back(hub, row.id)
            except WriteBackFailed:
                counts["write_back_failed"] += 1
    return counts


def no_trace(hub: Hub, row: Any, now: datetime) -> str:
    """The executor has no trace of an ``unknown`` refund: re-send with the same key only where
    that provably cannot pay twice; otherwise leave it for a person."""
    if now - (ledger.as_utc(row.updated_at) or now) < timedelta(seconds=hub.config.hub.unknown_grace_seconds):
        return "waiting"
    executor = _executor(hub, row)
    window = getattr(executor, "replay_window", None)
    # created_at precedes the first attempt, so this age is an upper bound on the key's age
    within_window = window is not None and now - (ledger.as_utc(row.created_at) or now) < window
    with recoverable(hub.engine) as conn:
        if getattr(executor, "lookup_is_complete", False) or within_window:
            jobs.add(conn, RESEND, row.id)
            audit.write(
                conn,
                "janitor",
                "resend_same_key",
                refund_id=row.id,
                note="the executor has no trace of the refund; re-sending with the same key",
            )
            return "resent"
        flagged = conn.execute(
            select(audit_table.c.id).where(audit_table.c.refund_id == row.id, audit_table.c.action == "needs_person")
        ).first()
        if flagged is None:
            audit.write(
                conn,
                "janitor",
                "needs_person",
                refund_id=row.id,
                note="no trace at the executor and its key can no longer be replayed safely",
            )
    return "needs_person"


def _executor(hub: Hub, row: Any) -> Any:
    account = gateway_account(row.route or "")
    return hub.gateways.get(account) if account is not None else hub.connectors.get(row.connector)


def lookup(hub: Hub, row: Any) -> Any:
    request = RefundRequest.model_validate(row.request)
    payment = request.payments[0]
    query = RefundLookup(
        hub_refund_id=row.id,
        idempotency_key=row.idempotency_key,
        payment_reference=payment.reference,
        amount=row.approved_amount or row.amount,
        currency=row.currency,
        gateway_refund_id=row.gateway_refund_id,
        payment_extra=dict(payment.extra),
    )
    account = gateway_account(row.route or "")
    try:
        if account is not None and account in hub.gateways:
            return hub.gateways[account].get_refund(query)
        store = hub.stores[row.connector].get(row.store_id)
        return hub.connectors[row.connector].get_platform_refund(store, query) if store else None
    except Exception:
        log.exception("lookup of refund %s failed", row.id, extra={"refund_id": row.id})
        return None


def redrive_stuck(hub: Hub, now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    cutoff = now - timedelta(seconds=hub.config.hub.lease_seconds)
    with recoverable(hub.engine) as conn:
        stuck = conn.execute(
            select(refunds.c.id, refunds.c.state).where(
                refunds.c.state.in_((states.REQUESTED, states.SUCCEEDED)), refunds.c.updated_at < cutoff
            )
        ).all()
        for row in stuck:
            jobs.add(conn, DECIDE if row.state == states.REQUESTED else jobs.REFUND, row.id)
            counts[f"redriven_{row.state}"] += 1
    return counts


def poll_stores(hub: Hub) -> Counter[str]:
    from hub.pipeline.deliveries import take_notice

    counts: Counter[str] = Counter()
    for name, connector in hub.connectors.items():
        for store in hub.stores[name].all():
            try:
                for problem in connector.check_webhooks(store):
                    with recoverable(hub.engine) as conn:
                        audit.write(
                            conn, "janitor", "webhook_health", store_id=store.id, connector=name, problem=problem
                        )
                cursor = hub.stores[name].get_state(store.id, CURSOR_KEY)
                result = connector.poll(store, cursor)
                if result is None:
                    continue
                for notice in result.notices:
                    take_notice(hub, name, notice, None)
                    counts["polled"] += 1
                if result.cursor != cursor:
                    hub.stores[name].set_state(store.id, CURSOR_KEY, result.cursor)
            except Exception as exc:
                log.exception(
                    "polling %s store %s failed", name, store.id, extra={"connector": name, "store_id": store.id}
                )
                with recoverable(hub.engine) as conn:
                    audit.write(conn, "janitor", "poll_failed", store_id=store.id, connector=name, error=str(exc)[:500])
    return counts


def prune(hub: Hub, now: datetime) -> int:
    cutoff = now - timedelta(days=hub.config.hub.retention_days)
    with recoverable(hub.engine) as conn:
        removed = conn.execute(
            deliveries.delete().where(deliveries.c.received_at < cutoff, deliveries.c.status.notin_((RECEIVED, DEAD)))
        ).rowcount
        removed += jobs.prune(conn, cutoff)
    return int(removed)


class JanitorThread(threading.Thread):
    """Runs ``sweep`` every ``janitor_interval`` seconds until stopped."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(name="janitor", daemon=True)
        self.hub = hub
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.hub.config.hub.janitor_interval):
            try:
                sweep(self.hub)
            except Exception:
                log.exception("janitor sweep failed")

    def stop(self) -> None:
        self.stopping.set()
