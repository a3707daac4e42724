"""Benchmark refunds per second through the hub against the Stripe, PayPal and Square simulators
with added gateway latency, next to the ideal (concurrency ÷ latency), and where the hub's time goes.

    .venv/bin/python bench/gateways.py [--refunds 192] [--workers 32] [--processes N[,M...]]
                                       [--latency 0.15] [--gateways stripe,paypal,square] [--profile]

Per gateway: a SQLite-file hub (``HubHarness``), the sandbox platform and the gateway simulator,
all on 127.0.0.1 and started in this bench process. Setup (untimed, no latency) takes ``--refunds``
signed refund requests through intake and policy, leaving them approved with their refund jobs
queued. Then the simulator answers every request ``--latency`` seconds late and the hub's workers
run until every refund is written back: claim the job and the refund, call the adapter, record
the outcome, write back to the platform, finish. Status webhooks and the platform's echo
webhooks are off: only this execute path is measured.

The workers have production's shape: there the gateway and the store are remote and the hub's
workers are separate ``refund-hub worker`` processes (each a Huey consumer with threads). The
``--workers`` threads (default 32) are split over ``--processes`` worker processes (default one
per core: 16 + 16 on 2 cores). Each is started with "spawn" (``bench/gateway_worker.py``),
bootstraps its own hub from the bench hub's configuration (same SQLite file, same simulators)
and runs the hub's worker loop in its threads (``hub.work.runner.drain``, one job per call,
woken again while a job is runnable). Before it reports ready, each process looks up one spare
payment through the adapter, as a worker that has been running holds its PayPal access token and
its connections already (a cold token fetch would add one gateway latency to each process's
first refund: ≈ 0.1 of the ratio in a run this short). All start on one signal; the clock runs from that signal
until every refund is written back (polled in the database) or the time limit. The simulators
and servers stay in the bench process: its CPU in the timed phase is what the remote gateway and
store cost, here on the same 2-core machine as the workers, competing with them for the cores.
``--processes 0`` runs the worker threads inside the bench process instead (the earlier mode:
hub, SDKs, simulators and servers share one GIL); ``--processes 0,2`` runs both, each on a fresh
setup, for a comparison in one run.

The ideal is ``workers ÷ gateway latency`` with the latency measured in the same run (median
time of the adapter's ``refund()`` call). The hub's overhead per refund is the worker's time for
the job minus that call. ``--profile`` prints the workers' cProfile, merged over threads and
processes. Limits: 25 s per timed phase; 95 s for the whole run (later runs are skipped).
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

from bench.gateway_worker import Crew, Meter, Sample, instrument, worker_process
from gateways.paypal.sim import PayPalSimulator
from gateways.square.sim import SquareSimulator
from gateways.stripe.sim import StripeSimulator
from hub.db.engine import reading
from hub.db.tables import jobs as job_rows
from hub.db.tables import refunds
from hub.ledger import outbox as jobs
from hub.ledger import states
from hub.pipeline.deliveries import process_delivery
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness

SIMULATORS: dict[str, Callable[[], Any]] = {
    "stripe": StripeSimulator,
    "paypal": PayPalSimulator,
    "square": SquareSimulator,
}
STORE = "bench-store"
LABEL = "card"
AMOUNT = 1500  # within the default policy's automatic approval
TIMED_PHASE_LIMIT = 25.0  # seconds per gateway; the run reports what finished rather than hang
BUDGET = 95.0  # seconds for the whole run: a gateway whose turn comes later is skipped


ACCOUNT = "{}-bench"  # the gateway account, by gateway type
CONNECTOR = "sandbox"
START_LIMIT = 60.0  # seconds for the worker processes to bootstrap and report ready


@dataclass
class Result:
    gateway: str
    refunds: int
    processes: int  # worker processes; 0: the worker threads run in the bench process
    threads: list[int]  # worker threads per worker process (one entry with 0 processes)
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
    profile: pstats.Stats | None = None


@contextmanager
def bench_hub(name: str, folder: Path) -> Iterator[tuple[HubHarness, SandboxPlatform, Any, Meter]]:
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
        hub_settings={"lease_seconds": 120},
    )
    meter = Meter()  # for the worker threads of --processes 0; worker processes have their own
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
    approved = count_in(harness, states.APPROVED)
    if approved != count:
        raise SystemExit(f"setup: only {approved} of {count} refunds were approved; check the policy")
    return str(sim.create_payment(AMOUNT, "USD"))


def count_in(harness: HubHarness, state: str) -> int:
    with reading(harness.hub.engine) as conn:  # no write lock: polled while the workers write
        return int(conn.execute(select(func.count()).where(refunds.c.state == state)).scalar_one())


def finish(result: Result, harness: HubHarness, started: float) -> None:
    result.started = started
    result.elapsed = max((s.done_at for s in result.samples), default=time.perf_counter()) - started
    result.written_back = count_in(harness, states.WRITTEN_BACK)


def run_threads(harness: HubHarness, meter: Meter, result: Result, profile: bool, deadline: float) -> None:
    """``--processes 0``: the worker threads in this process, each running ``drain(limit=1)``
    until every refund was executed."""
    crew = Crew(harness.hub, meter, profile)
    meter.reset()
    cpu, started = time.process_time(), time.perf_counter()
    threads: list[threading.Thread] = []
    # wake-ups: a full set of workers, and again whenever all stopped with refunds left (a job
    # retried later, as the janitor would wake a worker for it)
    deadline = min(deadline, started + TIMED_PHASE_LIMIT)
    while len(crew.samples) < result.refunds and time.perf_counter() < deadline:
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
    harness: HubHarness, result: Result, folder: Path, profile: bool, deadline: float, warm_payment: str
) -> None:
    """Worker processes (``bench.gateway_worker.worker_process``), ``result.threads`` threads each:
    start them, wait until all are ready, give the start signal, poll the database until every
    refund is written back (or the time limit), give the stop signal and collect their files."""
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
        }
        process = context.Process(
            target=worker_process,
            args=(json.dumps(spec), ready, start, stop),
            name=f"bench-worker-{index}",
            daemon=True,
        )
        process.start()
        processes.append(process)
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
    until every refund is written back (or the time limit); the start time, or None (and an
    error) when some process never got ready."""
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
        if count_in(harness, states.WRITTEN_BACK) >= result.refunds:
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
        result.held.extend((first, last) for first, last in data["held"])
        if data["still_running"]:
            result.errors.append(f"{process.name}: {data['still_running']} threads still in a job at exit")
        if out.with_suffix(".pstats").exists():
            profiles.append(str(out.with_suffix(".pstats")))
    return profiles


def exit_codes(processes: list[Any]) -> list[int | None]:
    return [process.exitcode for process in processes]


def split(workers: int, processes: int) -> list[int]:
    """``workers`` threads over ``processes`` processes, as evenly as possible (0: one process, in the bench)."""
    count = max(1, min(processes, workers))
    return [workers // count + (1 if i < workers % count else 0) for i in range(count)]


def bench_gateway(
    name: str, count: int, workers: int, processes: int, latency: float, profile: bool, deadline: float
) -> Result:
    result = Result(name, count, processes, split(workers, processes))
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder, bench_hub(name, Path(folder)) as parts:
        harness, platform, sim, meter = parts
        spare_payment = prepare(harness, platform, sim, count)
        sim.faults.latency = latency
        if processes:
            result.processes = len(result.threads)
            run_processes(harness, result, Path(folder), profile, deadline, spare_payment)
        else:
            run_threads(harness, meter, result, profile, deadline)
    return result


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


def shape(r: Result) -> str:
    return f"{r.gateway:<8}{r.processes:>6}{'+'.join(map(str, r.threads)):>8}"


def throughput_line(r: Result) -> str:
    rate = r.written_back / r.elapsed
    ideal = sum(r.threads) / statistics.median(s.gateway_s for s in r.samples)
    overhead = [(s.wall_s - s.gateway_s) * 1000 for s in r.samples]
    return (
        f"{shape(r)}{r.written_back:>5}/{r.refunds:<5}{rate:>9.1f}{ideal:>9.1f}{rate / ideal:>7.2f}"
        f"{percentile(overhead, 0.5):>10.1f}{percentile(overhead, 0.99):>9.1f}"
    )


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
        f"{shape(r)}{statistics.median(s.gateway_s for s in r.samples) * 1000:>7.1f}"
        f"{statistics.median(s.platform_s for s in r.samples) * 1000:>7.1f}"
        f"{percentile(waits, 0.5):>9.1f}{percentile(waits, 0.99):>9.1f}"
        f"{r.lock_held_s * per_refund:>8.1f}{100 * busy(r) / r.elapsed:>6.0f}%"
        f"{statistics.mean(s.begins for s in r.samples):>5.1f}"
        f"{hub_cpu:>8.1f}{sdk_cpu:>8.1f}{worker_cpu}{sim_cpu:>8.1f}{len(r.errors):>7}  {cores}"
    )


def modes(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError("one or more counts ≥ 0, comma-separated")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=192, help="refunds per gateway (default 192)")
    parser.add_argument("--workers", type=int, default=32, help="concurrent worker threads in all (default 32)")
    parser.add_argument(
        "--processes",
        type=modes,
        default=[os.cpu_count() or 1],
        help=f"worker processes the threads are split over (default {os.cpu_count()}, one per core); "
        "0: the threads run inside the bench process; several, comma-separated (0,2), run one after the other",
    )
    parser.add_argument("--latency", type=float, default=0.15, help="added gateway latency, seconds (0.15)")
    parser.add_argument("--gateways", default="stripe,paypal,square")
    parser.add_argument("--profile", action="store_true", help="cProfile the workers; print the top functions")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = []
    skipped = []
    deadline = began + BUDGET
    for name in args.gateways.split(","):
        for processes in args.processes:
            if time.perf_counter() < deadline:
                results.append(
                    bench_gateway(
                        name.strip(), args.refunds, args.workers, processes, args.latency, args.profile, deadline
                    )
                )
            else:
                skipped.append(f"{name.strip()} with {processes} processes")
    finished = [r for r in results if r.samples]
    print(
        f"{args.workers} workers, {args.latency * 1000:.0f} ms added gateway latency, SQLite-file hub, "
        f"{os.cpu_count()} cores (nominal ideal {args.workers / args.latency:.1f}/s)"
    )
    print(
        f"{'gateway':<8}{'procs':>6}{'threads':>8}{'done':>11}{'refund/s':>9}{'ideal/s':>9}{'ratio':>7}"
        f"{'ovh p50':>10}{'ovh p99':>9}"
    )
    for r in results:
        print(throughput_line(r) if r.samples else f"{shape(r)} no refund finished")
    print("where the time goes, per refund (ms):")
    print(
        f"{'gateway':<8}{'procs':>6}{'threads':>8}{'gw p50':>7}{'wb p50':>7}{'wait p50':>9}{'wait p99':>9}"
        f"{'lock/rf':>8}{'lock':>7}{'txns':>5}{'cpu hub':>8}{'cpu sdk':>8}{'cpu wrk':>8}{'cpu sim':>8}{'errors':>7}"
        "  CPU, % of one core"
    )
    for r in finished:
        print(time_line(r))
    for r in results:
        for error, times in Counter(r.errors).most_common(3):
            print(f"{r.gateway} ({r.processes} processes): {times} x {error}")
        if r.profile is not None:
            buffer = io.StringIO()
            r.profile.stream = buffer  # type: ignore[attr-defined]
            r.profile.sort_stats("tottime").print_stats(25)
            print(f"{r.gateway} ({r.processes} processes) workers' profile:{buffer.getvalue()}")
    for what in skipped:
        print(f"skipped (over the {BUDGET:.0f} s budget): {what}")
    print(
        "procs = worker processes (0: worker threads inside the bench process), threads = per process;\n"
        "ideal = workers / gw p50 (median adapter refund() call, this run); ratio = refund/s / ideal;\n"
        "ovh = the worker's time for a refund job minus its adapter call, of which: wb = the write-back\n"
        "call to the platform, wait = in the hub's BEGIN hook (writer queue + BEGIN IMMEDIATE: SQLite's\n"
        "write lock); lock/rf = how long the write lock was held per refund (BEGIN IMMEDIATE to the\n"
        "connection's return to the pool, summed); lock = share of the run in which some connection\n"
        "held it; txns = transactions (begin events) per refund job; cpu hub/sdk = CPU of the worker\n"
        "thread in the job outside the adapter / inside it; cpu wrk = the rest of the worker processes\n"
        "(wake-ups, idle claims, GC); cpu sim = the bench process (simulators, servers, progress polls;\n"
        "with procs 0 all but the jobs); CPU, % of one core = per process over the timed phase.\n"
        f"finished in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
