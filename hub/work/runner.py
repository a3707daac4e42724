"""Run claimed jobs. A job that hits a transient failure goes back to ``ready`` with backoff;
a delivery that keeps failing for another reason becomes a dead letter (never silently lost)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from hub.db.engine import recoverable
from hub.errors import PlatformError
from hub.runtime.bootstrap import Hub
from hub.work import jobs

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RESEND = "resend"
DECIDE = "decide"


def run_job(hub: Hub, job_id: int, kind: str, subject_id: str, attempts: int, taken: Any = None) -> None:
    from hub.pipeline.decide import NOTIFY, TryLater, decide, tell_customer
    from hub.pipeline.deliveries import dead_letter, process_delivery
    from hub.pipeline.execute import execute
    from hub.pipeline.writeback import WriteBackFailed

    run = jobs.JobRun(job_id)
    try:
        if kind == jobs.DELIVERY:
            process_delivery(hub, subject_id)
        elif kind == jobs.REFUND:
            execute(hub, subject_id, job=run, taken=taken)
        elif kind == RESEND:
            execute(hub, subject_id, resend=True)
        elif kind == DECIDE:
            decide(hub, subject_id)
        elif kind == NOTIFY:
            tell_customer(hub, subject_id)
        else:
            raise ValueError(f"unknown job kind {kind!r}")
    except TryLater as exc:  # waits for another refund to resolve: check again soon, no backoff
        _retry(hub, job_id, 1, f"waiting: {exc}")
        return
    except (PlatformError, WriteBackFailed, OperationalError) as exc:
        _retry(hub, job_id, attempts, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:
        log.exception(
            "job %s (%s %s) failed",
            job_id,
            kind,
            subject_id,
            extra={"job_id": job_id, "delivery_id" if kind == jobs.DELIVERY else "refund_id": subject_id},
        )
        if kind == jobs.DELIVERY and attempts >= MAX_ATTEMPTS:
            dead_letter(hub, subject_id, "worker", f"gave up after {attempts} attempts: {exc}")
        else:
            _retry(hub, job_id, attempts, f"{type(exc).__name__}: {exc}")
            return
    if not run.finished:
        with recoverable(hub.engine) as conn:
            jobs.finish(conn, job_id)


def _retry(hub: Hub, job_id: int, attempts: int, error: str) -> None:
    delay = min(300.0, 0.5 * 2 ** max(0, attempts - 1))
    try:
        with recoverable(hub.engine) as conn:
            jobs.retry(conn, job_id, delay, error)
    except OperationalError:  # the job's lease runs out and it is claimed again
        log.warning("could not put job %s back (database busy); its lease will expire", job_id)


def _claim(hub: Hub, lease: timedelta, first_step: Any) -> Any:
    """The next job, with ``first_step`` in its claim; if that step fails (and so undid the
    claim), the job alone: its handler meets the failure again where failures are handled."""
    try:
        return jobs.claim_next(hub.engine, lease, first_step=first_step)
    except Exception as exc:
        if isinstance(exc, OperationalError):
            raise
        log.exception("the first step of the next job failed; claiming the job alone")
        return jobs.claim_next(hub.engine, lease)


def drain(hub: Hub, limit: int = 100) -> int:
    """Claim and run jobs until none is runnable (or ``limit``); returns how many ran.

    A refund job's refund is claimed in the job's own claim transaction (``execute.take``)."""
    from hub.pipeline.execute import take

    lease = timedelta(seconds=hub.config.hub.lease_seconds)
    taken: dict[int, Any] = {}

    def take_refund(conn: Connection, job: Any) -> None:
        if job.kind == jobs.REFUND:
            taken[job.id] = take(conn, job.subject_id, lease)

    done = 0
    while done < limit:
        taken.clear()
        try:
            job = _claim(hub, lease, take_refund)
        except OperationalError:  # database busy for longer than busy_timeout: the next wake-up retries
            log.warning("could not claim a job (database busy); leaving it for the next wake-up")
            break
        if job is None:
            break
        run_job(hub, job.id, job.kind, job.subject_id, job.attempts, taken=taken.get(job.id))
        done += 1
    return done
