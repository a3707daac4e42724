"""Benchmark refunds per second through the hub against the Stripe, PayPal and Square simulators
with added gateway latency, next to the ideal (concurrency ÷ latency), and the hub's own cost.

    .venv/bin/python bench/gateways.py [--refunds 384] [--workers 32] [--latency 0.15] [--profile]

Per gateway: a SQLite-file hub (``HubHarness``), the sandbox platform and the gateway simulator,
all on 127.0.0.1. Setup (not timed, no latency) takes ``--refunds`` signed refund requests
through intake and policy, leaving them approved with their refund jobs queued. Then the
simulator answers every request ``--latency`` seconds late and ``--workers`` threads run the
hub's worker loop (``hub.work.runner.drain``, one job per call) until every refund is written
back: claim, execute through the adapter, record the outcome, write back to the platform.

Figures: refunds/s; the ideal ``workers ÷ gateway latency`` with the latency measured in this
run (median adapter ``refund()`` time) and the nominal ``workers ÷ --latency``; their ratio; and
per refund the hub's overhead (the worker's time for the job minus the adapter's refund call)
and, within it, the time spent waiting to begin SQLite transactions (``BEGIN IMMEDIATE``).
Status webhooks and the platform's echo webhooks are off so only the execute path is measured.
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
from hub.contracts import Execution, RefundResult
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
TIMED_PHASE_LIMIT = 25.0  # seconds; the run reports what finished rather than hang


class Tally(threading.local):
    """What the current worker thread spent in the gateway call and waiting for SQLite."""

    gateway_calls = 0
    gateway_s = 0.0
    begins = 0
    begin_wait_s = 0.0

    def take(self) -> tuple[int, float, int, float]:
        taken = (self.gateway_calls, self.gateway_s, self.begins, self.begin_wait_s)
        self.gateway_calls, self.gateway_s, self.begins, self.begin_wait_s = 0, 0.0, 0, 0.0
        return taken


class TimedGateway:
    """The account's adapter, unchanged, with each ``refund()`` call timed for its thread."""

    def __init__(self, inner: Any, tally: Tally) -> None:
        self._inner = inner
        self._tally = tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def refund(self, execution: Execution) -> RefundResult:
        started = time.perf_counter()
        try:
            result: RefundResult = self._inner.refund(execution)
            return result
        finally:
            self._tally.gateway_calls += 1
            self._tally.gateway_s += time.perf_counter() - started


def time_transaction_begins(engine: Any, tally: Tally) -> None:
    """Count the hub's transactions and time their BEGIN (on SQLite: waiting for the write lock)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            conn.info["bench_begin"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            tally.begins += 1
            tally.begin_wait_s += time.perf_counter() - conn.info.pop("bench_begin")


@dataclass
class Sample:
    done_at: float
    job_s: float
    gateway_s: float
    begins: int
    begin_wait_s: float


@dataclass
class Result:
    gateway: str
    refunds: int
    written_back: int
    elapsed: float
    samples: list[Sample] = field(default_factory=list)
    profile: pstats.Stats | None = None


@contextmanager
def bench_hub(name: str, folder: Path) -> Iterator[tuple[HubHarness, SandboxPlatform, Any, Tally]]:
    platform = SandboxPlatform(store_id=STORE).start()
    sim = SIMULATORS[name]().start()
    settings = {k: v for k, v in sim.hub_settings().items() if v is not None}
    account = f"{name}-bench"
    harness = HubHarness(
        folder,
        connectors={"sandbox": platform.hub_settings()},
        gateways={account: {"type": name, **settings}},
        stores={STORE: platform.store_config(routes={LABEL: f"gateway:{account}"})},
        policies={"default": {"version": "bench"}},
        hub_settings={"lease_seconds": 120},
    )
    tally = Tally()
    harness.hub.gateways[account] = TimedGateway(harness.hub.gateways[account], tally)  # type: ignore[assignment]
    time_transaction_begins(harness.hub.engine, tally)
    try:
        yield harness, platform, sim, tally
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


def run_workers(harness: HubHarness, tally: Tally, count: int, workers: int, profile: bool) -> Result:
    """``workers`` threads each running ``drain(limit=1)`` until ``count`` refunds were executed."""
    samples: list[Sample] = []
    profiles: list[cProfile.Profile] = []
    stop = threading.Event()
    lock = threading.Lock()

    def work() -> None:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        tally.take()
        while not stop.is_set():
            started = time.perf_counter()
            ran = drain(harness.hub, limit=1)
            finished = time.perf_counter()
            calls, gateway_s, begins, begin_wait_s = tally.take()
            if ran and calls:
                with lock:
                    samples.append(Sample(finished, finished - started, gateway_s, begins, begin_wait_s))
            elif not ran:
                time.sleep(0.01)
        if profiler:
            profiler.disable()
            with lock:
                profiles.append(profiler)

    threads = [threading.Thread(target=work, name=f"bench-worker-{i}", daemon=True) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while len(samples) < count and time.perf_counter() - started < TIMED_PHASE_LIMIT:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    last = max((s.done_at for s in samples), default=time.perf_counter())
    stats = None
    if profiles:
        stats = pstats.Stats(profiles[0], stream=io.StringIO())
        for extra in profiles[1:]:
            stats.add(extra)
    result = Result("", count, count_in(harness, states.WRITTEN_BACK), last - started, samples, stats)
    return result


def bench_gateway(name: str, count: int, workers: int, latency: float, profile: bool) -> Result:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder, bench_hub(name, Path(folder)) as parts:
        harness, platform, sim, tally = parts
        prepare(harness, platform, sim, count)
        sim.faults.latency = latency
        result = run_workers(harness, tally, count, workers, profile)
        result.gateway = name
        return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(result: Result, workers: int, latency: float) -> str:
    if not result.samples:
        return f"{result.gateway:<7} no refund finished"
    rate = result.written_back / result.elapsed
    gateway_p50 = statistics.median(s.gateway_s for s in result.samples)
    ideal = workers / gateway_p50
    overhead = [(s.job_s - s.gateway_s) * 1000 for s in result.samples]
    waits = [s.begin_wait_s * 1000 for s in result.samples]
    begins = statistics.mean(s.begins for s in result.samples)
    return (
        f"{result.gateway:<7} {result.written_back:>4}/{result.refunds:<4} {rate:>9.1f} {ideal:>8.1f} "
        f"{rate / ideal:>6.2f} {rate / (workers / latency):>8.2f} {gateway_p50 * 1000:>8.1f} "
        f"{percentile(overhead, 0.5):>8.1f} {percentile(overhead, 0.99):>8.1f} "
        f"{percentile(waits, 0.5):>8.1f} {percentile(waits, 0.99):>8.1f} {begins:>6.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refunds", type=int, default=384, help="refunds per gateway (default 384)")
    parser.add_argument("--workers", type=int, default=32, help="concurrent worker threads (default 32)")
    parser.add_argument("--latency", type=float, default=0.15, help="added gateway latency in seconds")
    parser.add_argument("--gateways", default="stripe,paypal,square")
    parser.add_argument("--profile", action="store_true", help="cProfile the workers; print the top functions")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    print(
        f"{args.workers} workers, {args.latency * 1000:.0f} ms added gateway latency, SQLite file, "
        f"nominal ideal {args.workers / args.latency:.1f}/s; ideal below = workers / median adapter call"
    )
    print(
        f"{'gateway':<7} {'done':>9} {'refund/s':>9} {'ideal/s':>8} {'ratio':>6} {'vs-nom':>8} {'gw p50':>8} "
        f"{'ovh p50':>8} {'ovh p99':>8} {'lock p50':>8} {'lock p99':>8} {'txns':>6}"
    )
    for name in args.gateways.split(","):
        result = bench_gateway(name.strip(), args.refunds, args.workers, args.latency, args.profile)
        print(report(result, args.workers, args.latency), flush=True)
        if result.profile is not None:
            buffer = io.StringIO()
            result.profile.stream = buffer  # type: ignore[attr-defined]
            result.profile.sort_stats("tottime").print_stats(20)
            print(buffer.getvalue())
    print("(ms; ovh = worker time per refund minus the adapter's refund call; lock = waiting in BEGIN IMMEDIATE;")
    print(f" txns = transactions per refund; finished in {time.perf_counter() - began:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
