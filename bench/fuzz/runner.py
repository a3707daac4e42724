"""Build cases, send them through the real WSGI app, drain the worker, and count.

A case is one request: a seeded mutation of an official sample (or a hostile body), signed
correctly, forged or unsigned, sometimes with a content-type or header trick. ``run_endpoint``
sends ``count`` of them to one endpoint, then runs the worker (``hub.work.runner.drain``) over
what was stored, and returns the counts and the findings (each with a reproducer)."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bench.fuzz.endpoints import FORGED, SIGNED, UNSIGNED, Endpoint, HeaderList, apply_edits
from bench.fuzz.mutators import mutate
from bench.fuzz.rule import json_object
from bench.fuzz.world import World
from hub.db.tables import deliveries, jobs
from hub.errors import PlatformError
from hub.ledger.unit import TransientStorageError
from hub.pipeline.writeback import WriteBackFailed
from hub.work.runner import drain

ABSENT = "<absent>"
ODD_CONTENT_TYPES = (
    ABSENT,
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=utf-16",
    "APPLICATION/JSON",
    "multipart/form-data; boundary=x",
    "application/json, text/plain",
    "application/jsonx",
    "application/json;" + "x" * 5000,
)
MODES = (SIGNED, FORGED, UNSIGNED)
MODE_WEIGHTS = (6, 2, 2)
KEEP_PER_KIND = 3  # reproducers kept per (finding kind, family or trick)


@dataclass
class Case:
    endpoint: str
    sample: str
    family: str
    mode: str
    body: bytes
    headers: HeaderList
    content_type: str  # ABSENT: no Content-Type header
    trick: str | None
    must_store: bool

    def describe(self, limit: int = 300) -> dict[str, Any]:
        body = self.body if len(self.body) <= limit else self.body[:limit] + b"...(%d bytes)" % len(self.body)
        return {
            "sample": self.sample,
            "family": self.family,
            "mode": self.mode,
            "trick": self.trick,
            "content_type": self.content_type,
            "headers": [(k, v if len(v) <= 120 else v[:120] + f"...({len(v)} chars)") for k, v in self.headers],
            "body": body,
        }


@dataclass
class Finding:
    kind: str  # 5xx | unstored | worker-crash | stranded
    endpoint: str
    detail: str
    case: dict[str, Any] | None = None
    traceback: str = ""


@dataclass
class Result:
    endpoint: str
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_family: dict[str, Counter[int]] = field(default_factory=dict)
    must_store: int = 0
    five_xx: int = 0
    unstored: int = 0
    crashes: int = 0
    stranded: int = 0
    retrying: int = 0
    delivery_statuses: Counter[str] = field(default_factory=Counter)
    jobs_run: int = 0
    findings: list[Finding] = field(default_factory=list)
    send_seconds: float = 0.0
    drain_seconds: float = 0.0
    _kept: Counter[tuple[str, str]] = field(default_factory=Counter)

    def keep(self, finding: Finding, key: str) -> None:
        self._kept[(finding.kind, key)] += 1
        if self._kept[(finding.kind, key)] <= KEEP_PER_KIND:
            self.findings.append(finding)

    @property
    def failed(self) -> bool:
        return bool(self.five_xx or self.unstored or self.crashes or self.stranded)


def make_case(endpoint: Endpoint, rng: random.Random, family: str | None = None, mode: str | None = None) -> Case:
    sample = rng.choice(endpoint.samples)
    data, meta = endpoint.prepare(sample, rng)
    family, body = mutate(rng, data, family)
    mode = mode or rng.choices(MODES, MODE_WEIGHTS)[0]
    headers = endpoint.headers(body, meta, mode)
    content_type = endpoint.content_type
    trick = None
    if rng.random() < 0.08:
        content_type = rng.choice(ODD_CONTENT_TYPES)
        trick = f"content-type {content_type[:40]!r}"
    elif rng.random() < 0.15:
        trick, edits = rng.choice(endpoint.tricks(rng, meta))
        headers = apply_edits(headers, edits)
    parsed = json_object(body)
    small = len(body) <= endpoint.world.config.hub.max_body_bytes
    must_store = (
        mode == SIGNED
        and trick is None
        and small
        and parsed is not None
        and endpoint.identity_ok(parsed, meta)
        and endpoint.framing_ok(body)
    )
    return Case(endpoint.name, sample.name, family, mode, body, headers, content_type, trick, must_store)


def send(world: World, endpoint: Endpoint, case: Case) -> tuple[int, dict[str, Any]]:
    kwargs: dict[str, Any] = {"data": case.body, "headers": case.headers}
    if case.content_type != ABSENT:
        kwargs["content_type"] = case.content_type
    response = world.client.post(endpoint.path, **kwargs)
    try:
        answer = response.get_json(force=True, silent=True) or {}
    finally:
        response.close()
    return response.status_code, answer


def _traceback(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    return "\n".join(f"{r.getMessage()}\n{formatter.formatException(r.exc_info)}" for r in records if r.exc_info)


def run_endpoint(
    world: World,
    endpoint: Endpoint,
    count: int,
    seed: int,
    max_seconds: float = 600.0,
    drain_seconds: float = 300.0,
    settle: float = 1.1,
) -> Result:
    rng = random.Random(f"{seed}:{endpoint.name}")
    result = Result(endpoint.name)
    cases: dict[str, Case] = {}  # delivery id -> the first case that stored it
    world.captured.take()
    started = time.monotonic()
    for _ in range(count):
        if time.monotonic() - started > max_seconds:
            break
        case = make_case(endpoint, rng)
        status, answer = send(world, endpoint, case)
        logged = world.captured.take()
        result.sent += 1
        result.statuses[status] += 1
        result.by_family.setdefault(case.family, Counter())[status] += 1
        result.must_store += case.must_store
        if status >= 500:
            result.five_xx += 1
            result.keep(
                Finding("5xx", endpoint.name, f"HTTP {status} {answer}", case.describe(), _traceback(logged)),
                case.trick or case.family,
            )
        elif case.must_store and not 200 <= status < 300:
            result.unstored += 1
            result.keep(Finding("unstored", endpoint.name, f"HTTP {status} {answer}", case.describe()), case.family)
        if 200 <= status < 300 and answer.get("delivery_id"):
            cases.setdefault(str(answer["delivery_id"]), case)
    result.send_seconds = time.monotonic() - started
    drain_and_count(world, result, cases, drain_seconds, settle)
    return result


def drain_and_count(world: World, result: Result, cases: dict[str, Case], budget: float, settle: float = 1.1) -> None:
    """Run the worker until nothing is runnable (retries due within ``settle`` seconds included),
    then find the jobs that ended in an unexpected exception and deliveries left without a job."""
    started = time.monotonic()
    idle = 0
    while time.monotonic() - started < budget and idle < (2 if settle else 1):
        ran = drain(world.hub, limit=200)
        result.jobs_run += ran
        if ran:
            idle = 0
        else:
            idle += 1
            time.sleep(settle)
    result.drain_seconds = time.monotonic() - started
    logged = world.captured.take()
    crashed: dict[int, list[logging.LogRecord]] = {}
    for record in logged:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.name == "hub.work.runner" and args and isinstance(args[0], int):
            crashed.setdefault(args[0], []).append(record)
    expected = _expected_errors()
    source = endpoint_source(result.endpoint)
    with world.hub.engine.connect() as conn:
        rows = conn.execute(sa.select(jobs.c.id, jobs.c.kind, jobs.c.subject_id, jobs.c.state, jobs.c.last_error)).all()
        stored = {
            r.id: r
            for r in conn.execute(
                sa.select(deliveries.c.id, deliveries.c.status, deliveries.c.error).where(
                    deliveries.c.connector == source
                )
            ).all()
        }
    pending = {r.subject_id for r in rows if r.kind == "delivery" and r.state != "done"}
    for row in rows:
        name = (row.last_error or "").split(":", 1)[0]
        if row.last_error and not row.last_error.startswith("waiting:") and name not in expected:
            crashed.setdefault(row.id, [])
        if row.state != "done" and row.last_error:
            result.retrying += row.subject_id in stored
    result.delivery_statuses = Counter(r.status for r in stored.values())
    errors = {r.id: r for r in rows}
    for job_id, records in sorted(crashed.items()):
        row = errors.get(job_id)
        if row is None or job_id in world.reported_jobs or (row.kind == "delivery" and row.subject_id not in stored):
            continue  # another endpoint's job (its own drain reports it)
        world.reported_jobs.add(job_id)
        result.crashes += 1
        case = cases.get(row.subject_id)
        detail = f"job {job_id} ({row.kind} {row.subject_id}) state={row.state} last_error={row.last_error!r}"[:800]
        result.keep(
            Finding("worker-crash", result.endpoint, detail, case.describe() if case else None, _traceback(records)),
            (case.family if case else row.kind) + (row.last_error or "").split(":", 1)[0],
        )
    for delivery_id, row in stored.items():
        if row.status == "received" and delivery_id not in pending:
            result.stranded += 1
            case = cases.get(delivery_id)
            result.keep(
                Finding(
                    "stranded",
                    result.endpoint,
                    f"delivery {delivery_id} received, no job left",
                    case and case.describe(),
                ),
                "stranded",
            )


def endpoint_source(name: str) -> str:
    return f"gateway:{name}" if name in ("stripe", "paypal", "square") else name


def _expected_errors() -> set[str]:
    """Exception names a job may end a run with and be retried (transient by design)."""
    names = {"WriteBackFailed", "TransientStorageError", WriteBackFailed.__name__, TransientStorageError.__name__}
    stack: list[type[BaseException]] = [PlatformError]
    while stack:
        kind = stack.pop()
        names.add(kind.__name__)
        stack.extend(kind.__subclasses__())
    return names
