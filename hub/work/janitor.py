"""The periodic janitor: schedules what a lost job, a dead worker or a silent platform left behind.

Each sweep (every step is a compare-and-set, so several janitors may run at once):
1. executions whose lease expired become ``unknown`` (the call may have gone out);
2. ``pending``/``unknown`` refunds are resolved by asking the executor (``hub.pipeline.resolve``);
3. refunds stuck ``requested`` get a decide job, ``succeeded`` ones a write-back job (never a
   second open one);
4. runnable jobs wake a worker (a queue message may have been lost);
5. stores that cannot push are polled, webhook subscriptions checked (``hub.pipeline.polling``);
6. old processed deliveries, old dead letters and finished jobs are pruned (dedupe keys outlive
   retries ≥ 7 days).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from hub.ledger import deliveries, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.unit import write
from hub.pipeline.polling import CURSOR_KEY, poll_stores
from hub.pipeline.resolve import expire_executions, resolve_unsettled
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
__all__ = ["CURSOR_KEY", "JanitorThread", "sweep"]
REDRIVE = {states.REQUESTED: JobKind.DECIDE, states.SUCCEEDED: JobKind.WRITE_BACK}


def sweep(hub: Hub, now: datetime | None = None) -> Counter[str]:
    now = now or datetime.now(UTC)
    counts: Counter[str] = Counter()
    counts["expired"] = expire_executions(hub, now)
    counts.update(resolve_unsettled(hub, now))
    counts.update(redrive_stuck(hub, now))
    counts.update(poll_stores(hub))
    counts["pruned"] = prune(hub, now)
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
        return deliveries.prune(conn, cutoff, dead_cutoff) + int(jobs.prune(conn, cutoff))


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
            except Exception:  # noqa: BLE001 - the next sweep tries again; the thread must live on
                log.exception("janitor sweep failed")

    def stop(self) -> None:
        self.stopping.set()
