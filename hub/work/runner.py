"""Run claimed jobs. A job that hits a transient failure goes back to ``ready`` with backoff;
a delivery that keeps failing for another reason becomes a dead letter (never silently lost)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from hub.errors import PlatformError
from hub.ledger import outbox as jobs
from hub.ledger.outbox import ClaimedJob, JobKind, JobRun
from hub.ledger.unit import TransientStorageError, Unit, write
from hub.outgoing.deliver import deliver_endpoint
from hub.pipeline.alternatives import issue
from hub.pipeline.decide import TryLater, decide
from hub.pipeline.deliveries import dead_letter, process_delivery
from hub.pipeline.execute import Taken, execute, take
from hub.pipeline.notify import send_notice, tell_customer
from hub.pipeline.writeback import WriteBackFailed, write_back
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
Handler = Callable[[Hub, str, JobRun, "Taken | None"], object]

HANDLERS: dict[str, Handler] = {
    JobKind.DELIVERY: lambda hub, subject, run, taken: process_delivery(hub, subject),
    JobKind.REFUND: lambda hub, subject, run, taken: execute(hub, subject, job=run, taken=taken),
    JobKind.RESEND: lambda hub, subject, run, taken: execute(hub, subject, resend=True),
    JobKind.DECIDE: lambda hub, subject, run, taken: decide(hub, subject),
    JobKind.NOTIFY: lambda hub, subject, run, taken: tell_customer(hub, subject),
    JobKind.NOTICE: lambda hub, subject, run, taken: send_notice(hub, subject, job=run),
    JobKind.CREDIT: lambda hub, subject, run, taken: issue(hub, subject),
    JobKind.WRITE_BACK: lambda hub, subject, run, taken: write_back(hub, subject, job=run),
    JobKind.WEBHOOK: lambda hub, subject, run, taken: deliver_endpoint(hub, subject),
}


def run_job(hub: Hub, job_id: int, kind: str, subject_id: str, attempts: int, taken: Taken | None = None) -> None:
    run = JobRun(job_id)
    try:
        handler = HANDLERS.get(kind)
        if handler is None:
            raise ValueError(f"unknown job kind {kind!r}")
        handler(hub, subject_id, run, taken)
    except TryLater as exc:  # waits for another refund to resolve: check again soon, no backoff
        _retry(hub, job_id, 1, f"waiting: {exc}")
        return
    except (PlatformError, WriteBackFailed, TransientStorageError) as exc:
        _retry(hub, job_id, attempts, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - a job's failure is recorded and retried, never lost
        log.exception(
            "job %s (%s %s) failed",
            job_id,
            kind,
            subject_id,
            extra={"job_id": job_id, "delivery_id" if kind == JobKind.DELIVERY else "refund_id": subject_id},
        )
        if kind != JobKind.DELIVERY or attempts < MAX_ATTEMPTS:
            _retry(hub, job_id, attempts, f"{type(exc).__name__}: {exc}")
            return
        dead_letter(hub, subject_id, "worker", f"gave up after {attempts} attempts: {exc}")
    if not run.finished:
        with write(hub.engine) as conn:
            jobs.finish(conn, job_id)


def _retry(hub: Hub, job_id: int, attempts: int, error: str) -> None:
    delay = min(300.0, 0.5 * 2 ** max(0, attempts - 1))
    try:
        with write(hub.engine) as conn:
            jobs.retry(conn, job_id, delay, error)
    except TransientStorageError:  # the job's lease runs out and it is claimed again
        log.warning("could not put job %s back (database busy); its lease will expire", job_id)


def _claim(hub: Hub, lease: timedelta, first_step: Callable[[Unit, ClaimedJob], None]) -> ClaimedJob | None:
    """The next job, with ``first_step`` in its claim; if that step fails (and so undid the
    claim), the job alone: its handler meets the failure again where failures are handled."""
    try:
        return jobs.claim_next(hub.engine, lease, first_step=first_step)
    except TransientStorageError:
        raise
    except Exception:  # noqa: BLE001 - the handler meets the same failure where failures are handled
        log.exception("the first step of the next job failed; claiming the job alone")
        return jobs.claim_next(hub.engine, lease)


def drain(hub: Hub, limit: int = 100) -> int:
    """Claim and run jobs until none is runnable (or ``limit``); returns how many ran.

    A refund job's refund is claimed in the job's own claim transaction (``execute.take``)."""
    lease = timedelta(seconds=hub.config.hub.lease_seconds)
    taken: dict[int, Taken] = {}

    def take_refund(conn: Unit, job: ClaimedJob) -> None:
        if job.kind == JobKind.REFUND:
            taken[job.id] = take(conn, job.subject_id, lease)

    done = 0
    while done < limit:
        taken.clear()
        try:
            job = _claim(hub, lease, take_refund)
        except TransientStorageError:  # database busy for longer than busy_timeout: the next wake-up retries
            log.warning("could not claim a job (database busy); leaving it for the next wake-up")
            break
        if job is None:
            break
        run_job(hub, job.id, job.kind, job.subject_id, job.attempts, taken=taken.get(job.id))
        done += 1
    return done
