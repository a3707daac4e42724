"""Benchmark refunds per second through the hub against the Stripe, PayPal and Square simulators
with added gateway latency, next to the ideal (concurrency ÷ latency), and where the hub's time goes.

    .venv/bin/python bench/gateways.py [--refunds 96] [--workers 32] [--latency 0.15] [--profile]

Per gateway: a SQLite-file hub (``HubHarness``), the sandbox platform and the gateway simulator,
all on 127.0.0.1. Setup (untimed, no latency) takes ``--refunds`` signed refund requests through
intake and policy, leaving them approved with their refund jobs queued. Then the simulator
answers every request ``--latency`` seconds late and ``--workers`` threads run the hub's worker
loop (``hub.work.runner.drain``, one job per call) until every refund is written back: claim the
job and the refund, call the adapter, record the outcome, write back to the platform, finish.
Status webhooks and the platform's echo webhooks are off: only this execute path is measured.

The ideal is ``workers ÷ gateway latency`` with the latency measured in the same run (median
time of the adapter's ``refund()`` call). The hub's overhead per refund is the worker's time for
the job minus that call. ``--profile`` prints the workers' merged cProfile (py-spy is not here).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
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
# the ``gateways`` package: the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, select

from gateways.paypal.simulator import PayPalSimulator
from gateways.square.simulator import SquareSimulator
from gateways.stripe.simulator import StripeSimulator
from hub.db.tables import jobs as job_rows
from hub.db.tables import refunds
from hub.ledger import states
from hub.pipeline.deliveries import process_delivery
from hub.sandbox.platform import SandboxPlatform
from hub.testing.harness import HubHarness
from hub.work import jobs
from hub.work.runner import drain

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


@dataclass
class Sample:
    """One ``drain(limit=1)`` call of one worker thread."""

    done_at: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the worker thread's CPU time
    gateway_calls: int = 0
    gateway_s: float = 0.0  # inside the adapter's refund()
    gateway_cpu_s: float = 0.0
    platform_s: float = 0.0  # inside the connector's record() (write-back to the platform)
    begins: int = 0  # transactions
    begin_wait_s: float = 0.0  # waiting in BEGIN: for BEGIN IMMEDIATE, SQLite's write lock


class Meter:
    """Fills the current thread's ``Sample`` from the adapter wrapper and the engine's events,
    and adds up how long the write lock is held (from BEGIN IMMEDIATE to the connection's return
    to the pool, after COMMIT) across all threads."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.lock_held_s = 0.0

    @property
    def sample(self) -> Sample:
        if not hasattr(self._local, "sample"):
            self._local.sample = Sample()
        current: Sample = self._local.sample
        return current

    def take(self) -> Sample:
        taken = self.sample
        self._local.sample = Sample()
        return taken

    def add(self, method: str, wall_s: float, cpu_s: float) -> None:
        sample = self.sample
        if method == "refund":
            sample.gateway_calls += 1
            sample.gateway_s += wall_s
            sample.gateway_cpu_s += cpu_s
        else:
            sample.platform_s += wall_s

    def watch(self, engine: Any) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN"):
                conn.info["bench_begin"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("BEGIN"):
                now = time.perf_counter()
                self.sample.begins += 1
                self.sample.begin_wait_s += now - conn.info.pop("bench_begin")
                if statement == "BEGIN IMMEDIATE":
                    self._local.holding_since = now

        @event.listens_for(engine.pool, "checkin")
        def _checkin(*args: Any) -> None:
            since = getattr(self._local, "holding_since", None)
            if since is not None:
                self._local.holding_since = None
                with self._lock:
                    self.lock_held_s += time.perf_counter() - since


class Timed:
    """A plugin instance, unchanged, with the wall and CPU time of one method's calls added to the
    calling thread's sample (``refund`` of the gateway adapter, ``record`` of the connector)."""

    def __init__(self, inner: Any, method: str, meter: Meter) -> None:
        self._inner, self._method, self._meter = inner, method, meter

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        return self._timed(found) if name == self._method else found

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                self._meter.add(self._method, time.perf_counter() - wall, time.thread_time() - cpu)

        return timed


@dataclass
class Result:
    gateway: str
    refunds: int
    written_back: int = 0
    elapsed: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock_held_s: float = 0.0
    process_cpu_s: float = 0.0  # hub, SDKs, simulators and servers: one process, one GIL
    profile: pstats.Stats | None = None


@contextmanager
def bench_hub(name: str, folder: Path) -> Iterator[tuple[HubHarness, SandboxPlatform, Any, Meter]]:
    platform = SandboxPlatform(store_id=STORE)
    platform.start()
    sim = SIMULATORS[name]().start()
    account = f"{name}-bench"
    harness = HubHarness(
        folder,
        connectors={"sandbox": platform.hub_settings()},
        gateways={account: {"type": name, **{k: v for k, v in sim.hub_settings().items() if v is not None}}},
        stores={STORE: platform.store_config(routes={LABEL: f"gateway:{account}"})},
        policies={"default": {"version": "bench"}},
        hub_settings={"lease_seconds": 120},
    )
    meter = Meter()
    hub = harness.hub
    hub.gateways[account] = Timed(hub.gateways[account], "refund", meter)  # type: ignore[assignment]
    hub.connectors["sandbox"] = Timed(hub.connectors["sandbox"], "record", meter)  # type: ignore[assignment]
    meter.watch(hub.engine)
    try:
        yield harness, platform, sim, meter
    finally:
        harness.close()
        platform.stop()
        sim.stop()


def prepare(harness: HubHarness, platform: SandboxPlatform, sim: Any, count: int) -> None:
    """``count`` approved refunds with their refund jobs queued (intake and policy, untimed)."""
    delivery_ids = []
    for i in range(count):
        order_id = f"b{i:05d}"
        payment = sim.create_payment(AMOUNT, "USD")
        # one customer each: the abuse rules must not send a benchmark customer to review
        platform.add_order(order_id, AMOUNT, label=LABEL, reference=payment, email=f"buyer{i}@example.com")
        raw, headers = platform.request_refund(order_id, AMOUNT, request_id=f"rq-{i}", send=False)
        answer = harness.client.post("/webhooks/sandbox", data=raw, headers=headers)
        assert answer.status_code == 200 and answer.json is not None, answer.get_data(as_text=True)
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


def count_in(harness: HubHarness, state: str) -> int:
    with harness.hub.engine.begin() as conn:
        return int(conn.execute(select(func.count()).where(refunds.c.state == state)).scalar_one())


def run_workers(
    harness: HubHarness, meter: Meter, result: Result, workers: int, profile: bool, deadline: float
) -> None:
    """``workers`` threads each running ``drain(limit=1)`` until every refund was executed."""
    stop = threading.Event()
    lock = threading.Lock()
    profiles: list[cProfile.Profile] = []

    def work() -> None:
        """Like a woken worker thread: run jobs one ``drain`` call at a time until none is left."""
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        while not stop.is_set():
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                ran = drain(harness.hub, limit=1)
            except Exception as exc:  # a real worker loop survives this too; count it
                ran = -1
                with lock:
                    result.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            sample = meter.take()
            sample.done_at = time.perf_counter()
            sample.wall_s, sample.cpu_s = sample.done_at - wall, time.thread_time() - cpu
            if ran > 0 and sample.gateway_calls:
                with lock:
                    result.samples.append(sample)
            elif ran == 0:
                break  # nothing runnable: this drain is over until the next wake-up
        if profiler:
            profiler.disable()
            with lock:
                profiles.append(profiler)

    meter.lock_held_s = 0.0
    cpu, started = time.process_time(), time.perf_counter()
    threads: list[threading.Thread] = []
    # wake-ups: a full set of workers, and again whenever all stopped with refunds left (a job
    # retried later, as the janitor would wake a worker for it)
    deadline = min(deadline, started + TIMED_PHASE_LIMIT)
    while len(result.samples) < result.refunds and time.perf_counter() < deadline:
        if not any(thread.is_alive() for thread in threads):
            threads = [threading.Thread(target=work, name=f"bench-worker-{i}", daemon=True) for i in range(workers)]
            for thread in threads:
                thread.start()
        time.sleep(0.05)
    result.process_cpu_s, result.lock_held_s = time.process_time() - cpu, meter.lock_held_s
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    result.elapsed = max((s.done_at for s in result.samples), default=time.perf_counter()) - started
    result.written_back = count_in(harness, states.WRITTEN_BACK)
    if profiles:
        result.profile = pstats.Stats(profiles[0], stream=io.StringIO())
        for extra in profiles[1:]:
            result.profile.add(extra)


def bench_gateway(name: str, count: int, workers: int, latency: float, profile: bool, deadline: float) -> Result:
    result = Result(name, count)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder, bench_hub(name, Path(folder)) as parts:
        harness, platform, sim, meter = parts
        prepare(harness, platform, sim, count)
        sim.faults.latency = latency
        run_workers(harness, meter, result, workers, profile, deadline)
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def throughput_line(r: Result, workers: int) -> str:
    rate = r.written_back / r.elapsed
    ideal = workers / statistics.median(s.gateway_s for s in r.samples)
    overhead = [(s.wall_s - s.gateway_s) * 1000 for s in r.samples]
    return (
        f"{r.gateway:<8}{r.written_back:>5}/{r.refunds:<5}{rate:>9.1f}{ideal:>9.1f}{rate / ideal:>7.2f}"
        f"{percentile(overhead, 0.5):>10.1f}{percentile(overhead, 0.99):>9.1f}"
    )


def time_line(r: Result) -> str:
    per_refund = 1000 / max(1, len(r.samples))
    waits = [s.begin_wait_s * 1000 for s in r.samples]
    hub_cpu = sum(s.cpu_s - s.gateway_cpu_s for s in r.samples) * per_refund
    sdk_cpu = sum(s.gateway_cpu_s for s in r.samples) * per_refund
    other_cpu = (r.process_cpu_s - sum(s.cpu_s for s in r.samples)) * per_refund
    return (
        f"{r.gateway:<8}{statistics.median(s.gateway_s for s in r.samples) * 1000:>7.1f}"
        f"{statistics.median(s.platform_s for s in r.samples) * 1000:>7.1f}"
        f"{percentile(waits, 0.5):>9.1f}{percentile(waits, 0.99):>9.1f}"
        f"{r.lock_held_s * per_refund:>8.1f}{100 * r.lock_held_s / r.elapsed:>6.0f}%"
        f"{statistics.mean(s.begins for s in r.samples):>5.1f}"
        f"{hub_cpu:>8.1f}{sdk_cpu:>8.1f}{other_cpu:>8.1f}{100 * r.process_cpu_s / r.elapsed:>6.0f}%{len(r.errors):>7}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=96, help="refunds per gateway (default 96)")
    parser.add_argument("--workers", type=int, default=32, help="concurrent worker threads (default 32)")
    parser.add_argument("--latency", type=float, default=0.15, help="added gateway latency, seconds (0.15)")
    parser.add_argument("--gateways", default="stripe,paypal,square")
    parser.add_argument("--profile", action="store_true", help="cProfile the workers; print the top functions")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    results = []
    deadline = began + BUDGET
    for name in args.gateways.split(","):
        if time.perf_counter() < deadline:
            results.append(
                bench_gateway(name.strip(), args.refunds, args.workers, args.latency, args.profile, deadline)
            )
    finished = [r for r in results if r.samples]
    print(
        f"{args.workers} workers, {args.latency * 1000:.0f} ms added gateway latency, SQLite-file hub "
        f"(nominal ideal {args.workers / args.latency:.1f}/s)"
    )
    print(f"{'gateway':<8}{'done':>11}{'refund/s':>9}{'ideal/s':>9}{'ratio':>7}{'ovh p50':>10}{'ovh p99':>9}")
    for r in results:
        print(throughput_line(r, args.workers) if r.samples else f"{r.gateway:<8} no refund finished")
    print("where the time goes, per refund (ms):")
    print(
        f"{'gateway':<8}{'gw p50':>7}{'wb p50':>7}{'wait p50':>9}{'wait p99':>9}{'lock/rf':>8}{'lock':>7}{'txns':>5}"
        f"{'cpu hub':>8}{'cpu sdk':>8}{'cpu sim':>8}{'cpu':>7}{'errors':>7}"
    )
    for r in finished:
        print(time_line(r))
    for r in results:
        for error, times in Counter(r.errors).most_common(3):
            print(f"{r.gateway}: {times} x {error}")
        if r.profile is not None:
            buffer = io.StringIO()
            r.profile.stream = buffer  # type: ignore[attr-defined]
            r.profile.sort_stats("tottime").print_stats(25)
            print(f"{r.gateway} workers' profile:{buffer.getvalue()}")
    print(
        "ideal = workers / gw p50 (median adapter refund() call, this run); ratio = refund/s / ideal;\n"
        "ovh = the worker's time for a refund job minus its adapter call, of which: wb = the write-back\n"
        "call to the platform, wait = waiting in BEGIN (SQLite's write lock); lock/rf and lock = how long\n"
        "the write lock was held per refund and as a share of the run; txns = transactions per refund;\n"
        "cpu hub/sdk/sim = CPU of the worker outside the adapter / inside it / the rest of the process\n"
        "(simulators, servers); cpu = process CPU as a share of one core (one process, one GIL).\n"
        f"finished in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
