"""Benchmark refunds per second through the hub against the Stripe, PayPal and Square simulators
with added gateway latency, next to the ideal (concurrency ÷ latency), and where the hub's time goes.

    .venv/bin/python bench/gateways.py [--workers N[,M...]] [--threads 16] [--database sqlite|postgres]
                                       [--in-flight K] [--refunds N] [--latency 0.15]
                                       [--gateways stripe,paypal,square] [--profile] [--budget 95]

Per gateway: a hub (``HubHarness``) on SQLite (default) or on the scale-out configuration
(``--database postgres``: PostgreSQL in a private schema of database ``test``, Huey on Redis
under a private queue name; ``bench/gateway_backing.py``), the sandbox platform and the gateway
simulator, all on 127.0.0.1, the simulators in this bench process. Setup (untimed, no latency)
takes ``--refunds`` signed refund requests through intake and policy, leaving them approved with
their refund jobs queued. Then the simulator answers every request ``--latency`` seconds late and
the hub's workers run: claim the job and the refund, call the adapter, record the outcome, write
back to the platform, finish. Status webhooks and the platform's echo webhooks are off: only this
execute path is measured.

``--workers`` is how many worker processes, as ``refund-hub worker`` is run to scale out; each has
``--threads`` threads (default 16: the default run is 32 threads over 2 processes, as before);
several counts, comma-separated (``--workers 1,2,4``), run one after the other, each on a fresh
setup, and the scale ratios between them are printed (2 vs 1, 4 vs 1, … next to the ideal's).
Each process is started with "spawn" (``bench/gateway_worker.py``), bootstraps its own hub from
the bench hub's configuration and, before it reports ready, looks up one spare payment through the
adapter (a running worker holds its PayPal token and connections already). On SQLite its threads
run the hub's worker loop (``hub.work.runner.drain``, one job per call) at once; on PostgreSQL +
Redis it is a Huey consumer on the run's queue, as ``refund-hub worker`` is, and the bench enqueues
one wake-up per refund (what the policy step sends when it approves one) before the start. All
start on one signal. ``--workers 0`` runs the threads inside the bench process instead (hub, SDKs,
simulators and servers share one GIL; no queue).

``--in-flight K``: the rate is taken while at least K refunds were still queued (not yet claimed),
so K refunds are always there for the workers — from the first refund written back to the claim
that left fewer than K queued — and the ideal is capped at K in flight; the clock stops there
(``--refunds`` defaults to K plus 8 s of the largest ideal). ``--in-flight 0`` (the default): all
``--refunds`` (default 192) from the start signal to the last write-back, the tail included.

The ideal is ``min(threads × processes, in flight) ÷ gateway latency`` with the latency measured
in the same run (median time of the adapter's ``refund()`` call). The hub's overhead per refund is
the worker's time for the job minus that call. ``--profile`` prints the workers' cProfile, merged
over threads and processes. Limits: 40 s per timed phase; ``--budget`` seconds for the whole run
(later runs are skipped).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import pstats
import queue
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as ``python bench/gateways.py``, this file's folder leads sys.path and its name would hide
# the ``gateways`` package: the project root goes first (spawned worker processes inherit it).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench.in_venv  # noqa: F401  (first: re-executes inside .venv)

# isort: split

from sqlalchemy import func, select

from bench.gateway_backing import KINDS, Backing
from bench.gateway_worker import Crew, Meter, Sample, instrument, worker_process
from gateways.paypal.sim import PayPalSimulator
from gateways.square.sim import SquareSimulator
from gateways.stripe.sim import StripeSimulator
from hub.db.engine import reading
from hub.db.tables import jobs as job_rows
from hub.db.tables import refunds
from hub.ledger import outbox as jobs
from hub.ledger import states
from hub.ledger.outbox import JobRun
from hub.pipeline.deliveries import process_delivery
from hub.pipeline.notify import send_notice
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness
from hub.work.queue import HueyDispatcher

SIMULATORS: dict[str, Callable[[], Any]] = {
    "stripe": StripeSimulator,
    "paypal": PayPalSimulator,
    "square": SquareSimulator,
}
STORE = "bench-store"
LABEL = "card"
AMOUNT = 1500  # within the default policy's automatic approval
TIMED_PHASE_LIMIT = 40.0  # seconds per run; the run reports what finished rather than hang
WINDOW = 8.0  # seconds of the largest ideal rate that --refunds adds to --in-flight by default


ACCOUNT = "{}-bench"  # the gateway account, by gateway type
CONNECTOR = "sandbox"
START_LIMIT = 60.0  # seconds for the worker processes to bootstrap and report ready


@dataclass
class Result:
    gateway: str
    refunds: int
    processes: int  # worker processes; 0: the worker threads run in the bench process
    threads: list[int]  # worker threads per worker process (one entry with 0 processes)
    in_flight: int = 0  # measured while at least this many were queued; 0: the whole run
    written_back: int = 0
    started: float = 0.0  # the start signal, time.perf_counter()
    elapsed: float = 0.0  # start signal to the end of the last refund job
    window: float = 0.0  # start signal to stop signal: what the CPU figures cover
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock_held_s: float = 0.0  # sum over transactions
    held: list[tuple[float, float]] = field(default_factory=list)  # when the write lock was held
    bench_cpu_s: float = 0.0  # the bench process: simulators and servers (with 0 processes also the workers)
    worker_cpu_s: list[float] = field(default_factory=list)  # per worker process
    other_jobs: int = 0  # jobs the workers ran that called no gateway (write-backs, notices, ...)
    other_cpu_s: float = 0.0  # their CPU, part of "cpu wrk"
    profile: pstats.Stats | None = None


@contextmanager
def bench_hub(name: str, folder: Path, backing: Backing) -> Iterator[tuple[HubHarness, SandboxPlatform, Any, Meter]]:
    platform = SandboxPlatform(store_id=STORE)
    platform.start()
    sim = SIMULATORS[name]().start()
    account = ACCOUNT.format(name)
    harness = HubHarness(
        folder,
        connectors={CONNECTOR: platform.hub_settings()},
        gateways={account: {"type": name, **{k: v for k, v in sim.hub_settings().items() if v is not None}}},
        stores={STORE: platform.store_config(routes={LABEL: f"gateway:{account}"})},
        policies={"default": {"version": "bench"}},
        hub_settings={"lease_seconds": 120, **backing.hub_settings},
    )
    meter = Meter()  # for the worker threads of --workers 0; worker processes have their own
    instrument(harness.hub, account, CONNECTOR, meter)
    try:
        yield harness, platform, sim, meter
    finally:
        harness.close()
        platform.stop()
        sim.stop()


def prepare(harness: HubHarness, platform: SandboxPlatform, sim: Any, count: int) -> str:
    """``count`` approved refunds with their refund jobs queued (intake and policy, untimed);
    returns a spare payment, for the worker processes' warm-up lookup."""
    delivery_ids = []
    for i in range(count):
        order_id = f"b{i:05d}"
        payment = sim.create_payment(AMOUNT, "USD")
        # one customer each: the abuse rules must not send a benchmark customer to review
        platform.add_order(order_id, AMOUNT, label=LABEL, reference=payment, email=f"buyer{i}@example.com")
        raw, headers = platform.request_refund(order_id, AMOUNT, request_id=f"rq-{i}", send=False)
        answer = harness.client.post("/webhooks/sandbox", data=raw, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.json is not None, answer.get_data(as_text=True)
        delivery_ids.append(answer.json["delivery_id"])
    hub = harness.hub
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda delivery_id: process_delivery(hub, delivery_id), delivery_ids))
    with hub.engine.begin() as conn:  # processed by hand above: close their jobs
        for (job_id,) in conn.execute(select(job_rows.c.id).where(job_rows.c.kind == jobs.DELIVERY)):
            jobs.finish(conn, job_id)
    send_setup_notices(hub)
    approved = count_in(harness, states.APPROVED)
    if approved != count:
        raise SystemExit(f"setup: only {approved} of {count} refunds were approved; check the policy")
    return str(sim.create_payment(AMOUNT, "USD"))


def send_setup_notices(hub: Any) -> None:
    """The customer notices intake and policy owe (received, approved), sent here as a running hub
    sends them while requests come in: the timed phase then runs the execute path and what it owes."""
    with reading(hub.engine) as conn:
        owed = conn.execute(
            select(job_rows.c.id, job_rows.c.subject_id).where(
                job_rows.c.kind == jobs.JobKind.NOTICE, job_rows.c.state == jobs.READY
            )
        ).all()
    for job_id, subject in owed:
        send_notice(hub, subject, job=JobRun(job_id))


def count_in(harness: HubHarness, state: str) -> int:
    with reading(harness.hub.engine) as conn:  # no write lock: polled while the workers write
        return int(conn.execute(select(func.count()).where(refunds.c.state == state)).scalar_one())


def queued(harness: HubHarness) -> int:
    """Refund jobs not claimed yet."""
    where = (job_rows.c.kind == jobs.REFUND) & (job_rows.c.state == jobs.READY)
    with reading(harness.hub.engine) as conn:
        return int(conn.execute(select(func.count()).where(where)).scalar_one())


def over(harness: HubHarness, result: Result) -> bool:
    """Whether the timed phase is over: fewer than ``--in-flight`` refunds queued, or (without
    it) every refund written back."""
    if result.in_flight:
        return queued(harness) < result.in_flight
    return count_in(harness, states.WRITTEN_BACK) >= result.refunds


def finish(result: Result, harness: HubHarness, started: float) -> None:
    result.started = started
    result.elapsed = max((s.done_at for s in result.samples), default=time.perf_counter()) - started
    result.written_back = count_in(harness, states.WRITTEN_BACK)


def run_threads(harness: HubHarness, meter: Meter, result: Result, profile: bool, deadline: float) -> None:
    """``--workers 0``: the worker threads in this process, each running ``drain(limit=1)``
    until the timed phase is over."""
    crew = Crew(harness.hub, meter, profile)
    meter.reset()
    cpu, started = time.process_time(), time.perf_counter()
    threads: list[threading.Thread] = []
    # wake-ups: a full set of workers, and again whenever all stopped with refunds left (a job
    # retried later, as the janitor would wake a worker for it)
    deadline = min(deadline, started + TIMED_PHASE_LIMIT)
    while not over(harness, result) and time.perf_counter() < deadline:
        if not any(thread.is_alive() for thread in threads):
            threads = crew.start(result.threads[0], "bench-worker")
        time.sleep(0.05)
    result.bench_cpu_s, result.lock_held_s = time.process_time() - cpu, meter.lock_held_s
    result.window = time.perf_counter() - started
    crew.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    result.samples, result.errors, result.held = list(crew.samples), list(crew.errors), list(meter.held)
    finish(result, harness, started)
    result.profile = crew.merged_profile()


def run_processes(
    harness: HubHarness,
    result: Result,
    folder: Path,
    profile: bool,
    deadline: float,
    warm_payment: str,
    backing: Backing,
) -> None:
    """Worker processes (``bench.gateway_worker.worker_process``), ``result.threads`` threads each:
    start them, wait until all are ready (meanwhile, on Redis, enqueue a wake-up per refund), give
    the start signal, poll the database until the timed phase is over (or the time limit), give the
    stop signal and collect their files."""
    context = multiprocessing.get_context("spawn")
    ready, start, stop = context.Queue(), context.Event(), context.Event()
    config = harness.config.model_dump(mode="json")
    processes = []
    for index, threads in enumerate(result.threads):
        spec = {
            "config": config,
            "index": index,
            "threads": threads,
            "account": ACCOUNT.format(result.gateway),
            "connector": CONNECTOR,
            "profile": profile,
            "out": str(folder / f"worker-{index}"),
            "warm_payment": warm_payment,
            "queue_name": backing.queue_name,
        }
        process = context.Process(
            target=worker_process,
            args=(json.dumps(spec), ready, start, stop),
            name=f"bench-worker-{index}",
            daemon=True,
        )
        process.start()
        processes.append(process)
    if backing.scale_out:
        wake_ups = HueyDispatcher(backing.huey(), lambda: 0)
        for _ in range(result.refunds):  # as the policy step wakes a worker for each approved refund
            wake_ups.wake()
    try:
        started = timed_phase(harness, result, processes, ready, start, deadline)
    finally:
        stop.set()
        start.set()
        for process in processes:
            process.join(timeout=40)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
                result.errors.append(f"{process.name} did not stop; terminated")
        ready.close()
    if started is None:
        return
    profiles = collect(result, processes, folder)
    finish(result, harness, started)
    if profiles:
        result.profile = pstats.Stats(*profiles, stream=io.StringIO())


def timed_phase(
    harness: HubHarness, result: Result, processes: list[Any], ready: Any, start: Any, deadline: float
) -> float | None:
    """Wait until every worker process is ready, give the start signal and poll the database
    until the timed phase is over (or the time limit); the start time, or None (and an error)
    when some process never got ready."""
    waiting = set(range(len(processes)))
    until = min(deadline, time.perf_counter() + START_LIMIT)
    while waiting and time.perf_counter() < until and all(p.exitcode is None for p in processes):
        try:
            waiting.discard(ready.get(timeout=0.2))
        except queue.Empty:
            pass
    if waiting:
        result.errors.append(f"worker processes {sorted(waiting)} not ready (exit codes {exit_codes(processes)})")
        return None
    cpu, started = time.process_time(), time.perf_counter()
    start.set()
    until = min(deadline, started + TIMED_PHASE_LIMIT)
    while time.perf_counter() < until and any(p.exitcode is None for p in processes):
        if over(harness, result):
            break
        time.sleep(0.05)
    result.bench_cpu_s, result.window = time.process_time() - cpu, time.perf_counter() - started
    return started


def collect(result: Result, processes: list[Any], folder: Path) -> list[str]:
    """Add the stopped worker processes' result files to ``result``; their profile files."""
    profiles = []
    for index, process in enumerate(processes):
        out = folder / f"worker-{index}"
        if not out.with_suffix(".json").exists():
            result.errors.append(f"{process.name}: no result (exit code {process.exitcode})")
            continue
        data = json.loads(out.with_suffix(".json").read_text())
        result.samples.extend(Sample(**sample) for sample in data["samples"])
        result.errors.extend(data["errors"])
        result.worker_cpu_s.append(data["cpu_s"])
        result.lock_held_s += data["lock_held_s"]
        result.other_jobs += data["other_jobs"]
        result.other_cpu_s += data["other_cpu_s"]
        result.held.extend((first, last) for first, last in data["held"])
        if data["still_running"]:
            result.errors.append(f"{process.name}: {data['still_running']} threads still in a job at exit")
        if out.with_suffix(".pstats").exists():
            profiles.append(str(out.with_suffix(".pstats")))
    return profiles


def exit_codes(processes: list[Any]) -> list[int | None]:
    return [process.exitcode for process in processes]


@dataclass
class Shape:
    """One run's shape: ``processes`` worker processes (0: threads in the bench) of ``threads``."""

    processes: int
    threads: int
    refunds: int
    in_flight: int
    latency: float
    backing: str


def bench_gateway(name: str, shape: Shape, profile: bool, deadline: float) -> Result:
    result = Result(name, shape.refunds, shape.processes, [shape.threads] * max(1, shape.processes), shape.in_flight)
    backing = Backing(shape.backing).create()
    try:
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder,
            bench_hub(name, Path(folder), backing) as (harness, platform, sim, meter),
        ):
            spare_payment = prepare(harness, platform, sim, shape.refunds)
            sim.faults.latency = shape.latency
            if shape.processes:
                run_processes(harness, result, Path(folder), profile, deadline, spare_payment, backing)
            else:
                run_threads(harness, meter, result, profile, deadline)
    finally:
        backing.drop()
    return result


def measured(r: Result) -> tuple[int, float]:
    """The refunds counted and the seconds they took: with ``--in-flight K``, those written back
    after the first one and before the claim that left fewer than K queued (or the end of the
    timed phase); without, every refund written back from the start signal to the last one."""
    if not r.in_flight:
        return r.written_back, r.elapsed
    claims = sorted(s.done_at - s.wall_s for s in r.samples)
    left_fewer = r.refunds - r.in_flight  # 0-based: the claim after which fewer than K were queued
    end = claims[left_fewer] if len(claims) > left_fewer else r.started + r.window
    first = min(s.done_at for s in r.samples)
    return sum(1 for s in r.samples if first < s.done_at <= end), max(1e-9, end - first)


def rate(r: Result) -> float:
    count, seconds = measured(r)
    return count / seconds


def ideal(r: Result) -> float:
    """Concurrency ÷ the median gateway latency: the threads, capped at what can be in flight."""
    cap = r.in_flight or r.refunds
    return min(sum(r.threads), cap) / statistics.median(s.gateway_s for s in r.samples)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def busy(r: Result) -> float:
    """How long at least one connection held the write lock during the run (the union of the
    held intervals: a holder's wait for the GIL between COMMIT and the pool's checkin can overlap
    the next holder's interval, so their sum may exceed the run)."""
    total, reach = 0.0, r.started
    for start, end in sorted(r.held):
        start, end = max(start, reach), min(end, r.started + r.elapsed)
        if end > start:
            total += end - start
            reach = end
    return total


def label(r: Result) -> str:
    return f"{r.gateway:<8}{r.processes:>6}{'+'.join(map(str, r.threads)):>12}"


def throughput_line(r: Result) -> str:
    count, seconds = measured(r)
    overhead = [(s.wall_s - s.gateway_s) * 1000 for s in r.samples]
    return (
        f"{label(r)}{r.written_back:>6}/{r.refunds:<6}{count:>8}{seconds:>7.1f}{rate(r):>9.1f}{ideal(r):>9.1f}"
        f"{rate(r) / ideal(r):>7.2f}{percentile(overhead, 0.5):>10.1f}{percentile(overhead, 0.99):>9.1f}"
    )


def scale_lines(results: list[Result]) -> list[str]:
    """Per gateway, each process count against the smallest one measured: the refunds/s ratio,
    the ideal's ratio and the one to the other (1.00: scaled as the ideal did)."""
    lines = []
    for name in dict.fromkeys(r.gateway for r in results):
        runs = sorted(
            (r for r in results if r.gateway == name and r.samples and r.processes), key=lambda r: r.processes
        )
        for base, other in ((runs[0], r) for r in runs[1:]):
            got, could = rate(other) / rate(base), ideal(other) / ideal(base)
            lines.append(
                f"{name:<8}{other.processes:>3} vs {base.processes:<3}{got:>8.2f}x{could:>9.2f}x{got / could:>10.2f}"
            )
    return lines


def time_line(r: Result) -> str:
    per_refund = 1000 / max(1, len(r.samples))
    waits = [s.begin_wait_s * 1000 for s in r.samples]
    in_jobs = sum(s.cpu_s for s in r.samples)
    hub_cpu = sum(s.cpu_s - s.gateway_cpu_s for s in r.samples) * per_refund
    sdk_cpu = sum(s.gateway_cpu_s for s in r.samples) * per_refund
    if r.processes:
        worker_cpu = f"{(sum(r.worker_cpu_s) - in_jobs) * per_refund:>8.1f}"
        sim_cpu = r.bench_cpu_s * per_refund
        cores = " + ".join(f"{100 * cpu / r.window:.0f}%" for cpu in r.worker_cpu_s)
        cores = f"workers {cores}, bench {100 * r.bench_cpu_s / r.window:.0f}%"
    else:
        worker_cpu = f"{'-':>8}"
        sim_cpu = (r.bench_cpu_s - in_jobs) * per_refund
        cores = f"bench (all) {100 * r.bench_cpu_s / r.window:.0f}%"
    return (
        f"{label(r)}{statistics.median(s.gateway_s for s in r.samples) * 1000:>7.1f}"
        f"{statistics.median(s.platform_s for s in r.samples) * 1000:>7.1f}"
        f"{percentile(waits, 0.5):>9.1f}{percentile(waits, 0.99):>9.1f}"
        f"{r.lock_held_s * per_refund:>8.1f}{100 * busy(r) / r.elapsed:>6.0f}%"
        f"{statistics.mean(s.begins for s in r.samples):>5.1f}"
        f"{hub_cpu:>8.1f}{sdk_cpu:>8.1f}{worker_cpu}{sim_cpu:>8.1f}{len(r.errors):>7}  {cores}"
    )


def counts(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError("one or more counts ≥ 0, comma-separated")
    return values


def default_refunds(args: argparse.Namespace) -> int:
    """192 for the whole-run measure; with ``--in-flight K``, K plus ``WINDOW`` seconds of the
    largest nominal ideal, so that K stay queued for that long at the ideal rate."""
    if not args.in_flight:
        return 192
    most = min(max(max(1, w) for w in args.workers) * args.threads, args.in_flight)
    return args.in_flight + round(WINDOW * most / args.latency)


def notes(results: list[Result]) -> None:
    """Jobs without a gateway call, the commonest errors and the profiles, per run."""
    for r in results:
        if r.samples and r.other_jobs:
            print(
                f"{r.gateway} ({r.processes} processes): {r.other_jobs} jobs without a gateway call, "
                f"{1000 * r.other_cpu_s / len(r.samples):.1f} ms CPU per refund of cpu wrk"
            )
    for r in results:
        for error, times in Counter(r.errors).most_common(3):
            print(f"{r.gateway} ({r.processes} processes): {times} x {error}")
        if r.profile is not None:
            buffer = io.StringIO()
            r.profile.stream = buffer  # type: ignore[attr-defined]
            r.profile.sort_stats("tottime").print_stats(25)
            print(f"{r.gateway} ({r.processes} processes) workers' profile:{buffer.getvalue()}")


def loadavg() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--workers",
        type=counts,
        default=[os.cpu_count() or 1],
        help=f"worker processes (default {os.cpu_count()}, one per core); several, comma-separated (1,2,4), "
        "run one after the other with their scale ratios; 0: the threads run inside the bench process",
    )
    parser.add_argument("--threads", type=int, default=16, help="worker threads per worker process (default 16)")
    parser.add_argument(
        "--database", choices=KINDS, default="sqlite", help="sqlite (default) or postgres: PostgreSQL + Huey on Redis"
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=0,
        help="measure while at least this many refunds are queued; the ideal is capped at it "
        "(default 0: the whole run, every refund queued at the start)",
    )
    parser.add_argument(
        "--refunds", type=int, help="refunds per run (default 192; with --in-flight K: K + 8 s of the ideal)"
    )
    parser.add_argument("--latency", type=float, default=0.15, help="added gateway latency, seconds (0.15)")
    parser.add_argument("--gateways", default="stripe,paypal,square")
    parser.add_argument("--profile", action="store_true", help="cProfile the workers; print the top functions")
    parser.add_argument("--budget", type=float, default=95.0, help="seconds for the whole run; later runs are skipped")
    args = parser.parse_args(argv)
    refunds = args.refunds or default_refunds(args)
    if args.in_flight and refunds <= args.in_flight:
        parser.error(f"--refunds {refunds} must exceed --in-flight {args.in_flight}")
    began = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} cores, {loadavg()}", flush=True)
    results = []
    skipped = []
    deadline = began + args.budget
    for name in args.gateways.split(","):
        for processes in args.workers:
            if time.perf_counter() < deadline:
                run = Shape(processes, args.threads, refunds, args.in_flight, args.latency, args.database)
                results.append(bench_gateway(name.strip(), run, args.profile, deadline))
            else:
                skipped.append(f"{name.strip()} with {processes} worker processes")
    finished = [r for r in results if r.samples]
    backing = "SQLite-file hub" if args.database == "sqlite" else "PostgreSQL + Redis (Huey) hub"
    measure = f"measured while ≥ {args.in_flight} queued" if args.in_flight else "whole run"
    print(
        f"{args.threads} threads per worker process, {args.latency * 1000:.0f} ms added gateway latency, "
        f"{backing}, {refunds} refunds per run, {measure}"
    )
    print(
        f"{'gateway':<8}{'procs':>6}{'threads':>12}{'done':>13}{'counted':>8}{'s':>7}{'refund/s':>9}{'ideal/s':>9}"
        f"{'ratio':>7}{'ovh p50':>10}{'ovh p99':>9}"
    )
    for r in results:
        print(throughput_line(r) if r.samples else f"{label(r)} no refund finished")
    scaling = scale_lines(finished)
    if scaling:
        print("scale-out (refund/s of N processes ÷ that of the fewest):")
        print(f"{'gateway':<8}{'':10}{'refund/s':>9}{'ideal':>10}{'to ideal':>10}")
        print("\n".join(scaling))
    print("where the time goes, per refund (ms):")
    print(
        f"{'gateway':<8}{'procs':>6}{'threads':>12}{'gw p50':>7}{'wb p50':>7}{'wait p50':>9}{'wait p99':>9}"
        f"{'lock/rf':>8}{'lock':>7}{'txns':>5}{'cpu hub':>8}{'cpu sdk':>8}{'cpu wrk':>8}{'cpu sim':>8}{'errors':>7}"
        "  CPU, % of one core"
    )
    for r in finished:
        print(time_line(r))
    notes(results)
    for what in skipped:
        print(f"skipped (over the {args.budget:.0f} s budget): {what}")
    print(
        "procs = worker processes (0: worker threads inside the bench process), threads = per process;\n"
        "counted, s = the refunds the rate counts and their seconds (with --in-flight: from the first\n"
        "write-back to the claim that left fewer queued); ideal = min(threads, in flight) / gw p50\n"
        "(median adapter refund() call, this run); ratio = refund/s / ideal;\n"
        "ovh = the worker's time for a refund job minus its adapter call, of which: wb = the write-back\n"
        "call to the platform, wait = in the hub's BEGIN hook (SQLite: writer queue + BEGIN IMMEDIATE,\n"
        "the write lock; PostgreSQL: BEGIN); lock/rf = how long SQLite's write lock was held per refund\n"
        "(BEGIN IMMEDIATE to the connection's return to the pool, summed); lock = share of the run in\n"
        "which some connection held it; txns = transactions (begin events) per refund job; cpu hub/sdk =\n"
        "CPU of the worker thread in the job outside the adapter / inside it; cpu wrk = the rest of the\n"
        "worker processes (wake-ups, idle claims, queue pops, GC); cpu sim = the bench process\n"
        "(simulators, servers, progress polls; with procs 0 all but the jobs); CPU, % of one core = per\n"
        "process over the timed phase.\n"
        f"finished in {time.perf_counter() - began:.1f} s, {loadavg()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
