"""The periodic janitor: schedules what a lost job, a dead worker or a silent platform left behind.

Its work is a set of duties, each claimed in the database under a lease (``hub.ledger.duties``):
however many worker processes run a janitor, a duty has one owner at a time, and a paced janitor
does not run it again before its interval — each store is polled once per interval in total,
not once per worker. Resolution of one refund is claimed too (``hub.pipeline.resolve``).

Fast duties, every ``janitor_interval`` in their own loop so nothing slow holds them up:
1. ``expire``: executions whose lease expired become ``unknown`` (the call may have gone out);
2. ``resolve``: ``pending``/``unknown`` refunds are resolved by asking the executor;
3. ``redrive``: refunds stuck ``requested`` get a decide job, ``succeeded`` ones a write-back job
   (never a second open one); runnable jobs wake a worker (a queue message may have been lost);
4. ``webhooks``: outgoing webhook endpoints whose backoff has passed get what they are owed
   (``hub.outgoing.deliver``; a job sends new messages at once).
Slow duties, in a second loop:
5. ``poll:<connector>:<store>``: stores that cannot push are polled page by page, webhook
   subscriptions checked (``hub.pipeline.polling``);
6. ``prune``: old processed deliveries, old dead letters, finished jobs (dedupe keys outlive
   retries ≥ 7 days), expired store state (install nonces) and delivered outgoing webhooks;
7. ``audit_report``: every ``[audit] report_every_days`` the audit report per store (``hub.outgoing.report``);
8. ``statistics``: the planner statistics refreshed every few hours (``hub.ledger.unit``), so
   the console's pages keep their indexes as the ledger grows;
9. ``reconcile``: each store's ledger against its gateways and platform (``hub.reconcile``);
   ``monthly_export``: last month's refunds as CSV per store (docs/reconciliation.md);
10. ``analytics``: the store-days whose refunds changed rebuilt in the analytics rollup
   (``hub.ledger.analytics_rollup``; until then the pages read those days from the ledger).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hub.ledger import analytics_rollup, deliveries, duties, states, webhook_deliveries
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.stores import prune_expired_state
from hub.ledger.unit import refresh_statistics, write
from hub.outgoing.deliver import deliver_due
from hub.outgoing.report import audit_report_duty
from hub.pipeline.polling import CURSOR_KEY, poll_store
from hub.pipeline.resolve import expire_executions, resolve_unsettled
from hub.reconcile.duties import monthly_export_duty, reconcile_duty
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
__all__ = ["CURSOR_KEY", "JanitorThread", "sweep"]
REDRIVE = {states.REQUESTED: JobKind.DECIDE, states.SUCCEEDED: JobKind.WRITE_BACK}
PRUNE_EVERY = 3600.0
STATISTICS_EVERY = 6 * 3600.0
EXPORT_EVERY = 86400.0  # daily: last month's file is written once, on the first run after the month ends


@dataclass(frozen=True)
class Duty:
    name: str
    every: float  # seconds between runs, across the cluster
    lease: float  # how long an owner that died blocks it
    run: Callable[[Hub, datetime], Counter[str]]
    # reaches outside or writes files (a gateway's whole listing, an export): on its schedule only,
    # never in an unpaced sweep (tests and start-up sweep everything at once)
    scheduled_only: bool = False


def fast_duties(hub: Hub) -> list[Duty]:
    interval = hub.config.hub.janitor_interval
    lease = 2 * interval + 30
    return [
        Duty("expire", interval, lease, lambda h, now: Counter(expired=expire_executions(h, now))),
        Duty("resolve", interval, lease, resolve_unsettled),
        Duty("redrive", interval, lease, redrive_stuck),
        Duty("webhooks", interval, lease, lambda h, now: deliver_due(h)),  # the real clock: receivers check it
    ]


def slow_duties(hub: Hub) -> list[Duty]:
    interval, lease = hub.config.hub.janitor_interval, float(hub.config.hub.lease_seconds)
    polls = [
        Duty(f"poll:{name}:{store.id}", interval, lease, _poller(name, store.id))
        for name in hub.connectors
        for store in hub.stores[name].all()
    ]
    report = Duty("audit_report", hub.config.audit.report_every_days * 86400, lease, audit_report_duty)
    statistics = Duty("statistics", STATISTICS_EVERY, lease, _statistics)
    books = [Duty("reconcile", hub.config.reconcile.every_hours * 3600, lease, reconcile_duty, scheduled_only=True),
             Duty("monthly_export", EXPORT_EVERY, lease, monthly_export_duty, scheduled_only=True)]  # fmt: skip
    prune_duty = Duty("prune", PRUNE_EVERY, lease, lambda h, now: Counter(pruned=prune(h, now)))
    rollup = Duty("analytics", interval, lease, _analytics)
    return [*polls, prune_duty, report, statistics, *books, rollup]


def _analytics(hub: Hub, now: datetime) -> Counter[str]:
    rebuilt = analytics_rollup.refresh(hub.engine, seconds=min(30.0, hub.config.hub.lease_seconds / 2))
    return Counter(analytics_days=rebuilt) if rebuilt else Counter()


def _statistics(hub: Hub, now: datetime) -> Counter[str]:
    return Counter(statistics=int(refresh_statistics(hub.engine)))


def _poller(name: str, store_id: str) -> Callable[[Hub, datetime], Counter[str]]:
    def run(hub: Hub, now: datetime) -> Counter[str]:
        store = hub.stores[name].get(store_id)
        return poll_store(hub, name, store) if store is not None else Counter()

    return run


def perform(hub: Hub, duty: Duty, now: datetime, *, paced: bool) -> Counter[str]:
    """Run ``duty`` if this janitor can claim it; ``paced``: not before its interval has passed."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    every = timedelta(seconds=duty.every * 0.9 if paced else 0)
    with write(hub.engine) as conn:
        if not duties.claim(conn, duty.name, owner, timedelta(seconds=duty.lease), every, now):
            return Counter(skipped=1)
    started, error = time.perf_counter(), None
    try:
        return duty.run(hub, now)
    except Exception as exc:  # noqa: BLE001 - a duty's failure is recorded; the others go on
        log.exception("janitor duty %s failed", duty.name)
        error = f"{type(exc).__name__}: {exc}"
        return Counter(failed=1)
    finally:
        with write(hub.engine) as conn:
            duties.finish(conn, duty.name, owner, time.perf_counter() - started, error)


def sweep(hub: Hub, now: datetime | None = None, *, paced: bool = False, slow: bool = True) -> Counter[str]:
    """Every duty this janitor can claim (tests and start-up call it unpaced, all at once)."""
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    for duty in fast_duties(hub) + (slow_duties(hub) if slow else []):
        if duty.scheduled_only and not paced:
            continue
        counts.update(perform(hub, duty, now, paced=paced))
    with write(hub.engine) as conn:
        counts["runnable"] = jobs.runnable(conn)
    if counts["runnable"]:
        hub.dispatcher.wake()
    return counts


def redrive_stuck(hub: Hub, now: datetime) -> Counter[str]:
    """A refund left ``requested`` or ``succeeded`` for longer than a lease lost its job."""
    counts: Counter[str] = Counter()
    cutoff = now - timedelta(seconds=hub.config.hub.lease_seconds)
    with write(hub.engine) as conn:
        for refund_id, state in ledger.stuck(conn, cutoff):
            if jobs.ensure(conn, REDRIVE[state], refund_id):
                counts[f"redriven_{state}"] += 1
    return counts


def prune(hub: Hub, now: datetime) -> int:
    settings = hub.config.hub
    cutoff = now - timedelta(days=settings.retention_days)
    dead_cutoff = now - timedelta(days=max(settings.dead_letter_days, settings.retention_days))
    with write(hub.engine) as conn:
        removed = deliveries.prune(conn, cutoff, dead_cutoff) + int(jobs.prune(conn, cutoff))
        return removed + prune_expired_state(conn, now) + webhook_deliveries.prune(conn, cutoff)


class JanitorThread(threading.Thread):
    """Runs the fast duties every ``janitor_interval`` seconds, and the slow ones (polls, prune)
    in a second thread of their own, until stopped."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(name="janitor", daemon=True)
        self.hub = hub
        self.stopping = threading.Event()
        self.slow = threading.Thread(target=self._loop, args=(slow_duties,), name="janitor-slow", daemon=True)

    def run(self) -> None:
        self.slow.start()
        self._loop(fast_duties, wake=True)

    def _loop(self, duties_of: Callable[[Hub], list[Duty]], wake: bool = False) -> None:
        while not self.stopping.wait(self.hub.config.hub.janitor_interval):
            try:
                for duty in duties_of(self.hub):  # each claimed at its own moment: a slow poll ages the round
                    perform(self.hub, duty, datetime.now(UTC), paced=True)
                if wake:
                    with write(self.hub.engine) as conn:
                        if jobs.runnable(conn):
                            self.hub.dispatcher.wake()
            except Exception:  # noqa: BLE001 - the next round tries again; the thread must live on
                log.exception("janitor round failed")

    def stop(self) -> None:
        self.stopping.set()
