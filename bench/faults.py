"""The whole hub as processes under duplicates, faults and kill -9, counting every loss.

    .venv/bin/python bench/faults.py [--quick | --orders 1000] [--database sqlite|postgres]
                                     [--workers N] [--duplicates 0.3] [--settle 240] [--seed S]

Starts the embedded default's simulators (Shopify, WooCommerce, Magento; Stripe, PayPal, Square) in
this process and the hub as real processes: ``refund-hub serve`` (web, ingest service, one worker)
plus standalone ``refund-hub worker`` processes up to ``--workers``. Then, while faults are on, it
seeds ``--orders`` orders across the three platforms and gateways and asks for each refund the
platform's own way, sends ~30 % of those deliveries again later, makes the gateways fail (5xx
before and after the work, resets, timeouts, lost and late answers, failing lookups), makes stores
refuse or lose write-backs for a while, and SIGKILLs worker processes at random moments (each is
replaced). Faults off, it waits for the hub to settle (bounded) and prints the losses, each 0 on a
healthy hub (exit status 1 otherwise): double refunds, over-refunds, lost deliveries, stuck
refunds, double write-backs; with the audit trail of every refund behind one.

Everything talks to 127.0.0.1 only. ``--database postgres`` uses a fresh schema in database
``test`` on 127.0.0.1:5432 and Redis database 11, both dropped/flushed afterwards.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Run as ``python bench/faults.py``, this file's folder leads sys.path and its name would hide
# the ``gateways`` package: the project root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench.in_venv  # noqa: F401  (first: re-executes inside .venv)

# isort: split

from bench import venv  # noqa: E402
from bench.faults import count  # noqa: E402
from bench.faults.chaos import Chaos, Rates, Switches, prepare  # noqa: E402
from bench.faults.traffic import Driver, Order, Resender, plan_orders  # noqa: E402
from bench.faults.world import Cluster, Database, start_simulators, write_config  # noqa: E402
from hub.runtime.bootstrap import bootstrap  # noqa: E402
from hub.sandbox.base import Simulator  # noqa: E402

T0 = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - T0:7.1f} s] {text}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="a sanity run: 100 orders, shorter phases")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (sqlite: 1, postgres: 3)")
    parser.add_argument("--duplicates", type=float, default=0.3, help="share of requests delivered twice")
    parser.add_argument("--rate", type=float, default=None, help="orders per second (default: 15; quick: 8)")
    parser.add_argument("--tail", type=float, default=None, help="seconds faults stay on after the last order")
    parser.add_argument("--settle", type=float, default=240.0, help="at most this long for the hub to settle")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (and PostgreSQL schema)")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders = min(args.orders, 100)
    args.rate = args.rate or (8.0 if args.quick else 15.0)
    args.tail = 10.0 if args.tail is None and args.quick else (20.0 if args.tail is None else args.tail)
    args.workers = args.workers or (3 if args.database == "postgres" else 1)
    args.seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    return args


def drive(driver: Driver, orders: list[Order], rate: float, seed: int, deadline: float) -> None:
    """Play every order at about ``rate`` per second from four threads; stops at ``deadline``."""

    def one(order: Order) -> None:
        driver.play(order, random.Random(seed * 100_003 + order.n))

    with ThreadPoolExecutor(4, thread_name_prefix="driver") as pool:
        start = time.monotonic()
        for i, order in enumerate(orders):
            due = start + i / rate
            if time.monotonic() > deadline:
                order.error = "not played: drive deadline"
                continue
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(one, order)


def keep_faulting(hub: Any, orders: list[Order], least: float, most: float) -> None:
    """Faults stay on at least ``least`` seconds and until 95 % of the requests have a refund at
    rest (final or waiting for a person), so the faults hit the execution and write-back paths."""
    start = time.monotonic()
    asked = sum(1 for o in orders if o.requested)
    while time.monotonic() - start < most:
        at_rest = count.at_rest(hub)
        if time.monotonic() - start >= least and at_rest >= 0.95 * asked:
            break
        time.sleep(1.0)
    say(f"{count.at_rest(hub)} of {asked} refunds at rest after {time.monotonic() - start:.0f} s more under faults")


def settle(hub: Any, cluster: Cluster, limit: float) -> tuple[float, bool]:
    """Seconds until no refund is stuck and no job is open (twice in a row), at most ``limit``."""
    start = time.monotonic()
    calm = 0
    last_report = start
    while time.monotonic() - start < limit:
        cluster.restore()  # a worker that crashed on its own is replaced too
        with hub.engine.connect() as conn:
            stuck = len(count.stuck(conn))
            jobs = count.open_jobs(conn)
        calm = calm + 1 if stuck == 0 and jobs == 0 else 0
        if calm >= 2:
            return time.monotonic() - start, True
        if time.monotonic() - last_report > 15:
            say(f"settling: {stuck} refunds not settled, {jobs} open jobs")
            last_report = time.monotonic()
        time.sleep(1.0)
    return time.monotonic() - start, False


def report(
    args: argparse.Namespace,
    hub: Any,
    sims: dict[str, Simulator],
    orders: list[Order],
    chaos: Chaos,
    switches: Switches,
    cluster: Cluster,
    timings: dict[str, float],
) -> int:
    losses = count.Losses()
    info = count.count_money(sims, losses)
    info.update(count.count_records(sims, losses))
    info.update(count.count_deliveries(hub, sims, losses))
    count.count_stuck(hub, losses)
    summary = count.hub_summary(hub)
    missing = count.orders_without_refund(hub, orders)
    print("\n== Faults run ==")
    print(f"command: bench/faults.py {' '.join(sys.argv[1:])} (seed {args.seed})")
    print(f"database: {args.database}, worker processes: {args.workers}")
    print(
        f"orders: {len(orders)} ({sum(1 for o in orders if o.requested)} refund requests made, "
        f"{sum(1 for o in orders if o.error)} seeding errors)"
    )
    print(f"hub refunds: {sum(summary['refunds by state'].values())} {summary['refunds by state']}")
    print(f"requests with no hub refund: {len(missing)}")
    print(f"duplicates sent: {sum(o.duplicated for o in orders)}")
    print(
        f"faults injected: {sum(chaos.injected.values())} planned, {sum(switches.fired.values())} hit requests "
        f"{dict(sorted(switches.fired.items()))}"
    )
    print(
        f"kills: {cluster.kills} (restarts {cluster.restarts}); workers that died on their own: "
        f"{len(cluster.crashed)}{' ' + cluster.crashed[0] if cluster.crashed else ''}"
    )
    print(
        f"faults on for {timings['faults']:.1f} s; faults off to settled: {timings['settle']:.1f} s"
        f"{'' if timings['settled'] else ' (NOT settled within --settle)'}"
    )
    intervals = timings["hub_up"] / hub.config.hub.janitor_interval
    for name, (runs, failures, last) in sorted(summary["polls"].items()):
        print(f"poll {name}: {runs} runs ({failures} failed, last took {last:.1f} s) over {intervals:.0f} intervals")
    print(f"needs a person: {summary['needs a person']}; failed by last error: {summary['failed, by last error']}")
    print(f"deliveries by status: {summary['deliveries by status']}; open jobs: {summary['open jobs']}")
    print(f"simulators: {dict(sorted(info.items()))}")
    print("\n-- losses (each must be 0) --")
    figures = losses.figures()
    for name, value in figures.items():
        print(f"{name:20s} {value}")
    details = {
        "double refunds": losses.double_refunds,
        "over-refunds": losses.over_refunds,
        "lost deliveries": losses.lost_deliveries,
        "stuck refunds": losses.stuck_refunds,
        "double write-backs": losses.double_writebacks,
    }
    for name, lines in details.items():
        for line in lines[:20]:
            print(f"  {name}: {line}")
    for refund_id in sorted(losses.suspects)[:10]:
        print("\n" + "\n".join(count.audit_trail(hub, refund_id)))
    for order in missing[:5]:
        print(f"  no hub refund: {order}")
    return 1 if any(figures.values()) else 0


class Session:
    """Everything one run starts, stopped again on the way out (errors and Ctrl-C included)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.folder = Path(tempfile.mkdtemp(prefix="refund-hub-faults-"))
        self.database = Database(args.database)
        self.switches = Switches()
        self.resender = Resender()
        self.sims: dict[str, Simulator] = {}
        self.cluster: Cluster | None = None
        self.chaos: Chaos | None = None
        self.hub: Any = None
        self.keep = args.keep

    def __enter__(self) -> Session:
        self.database.create()
        config = write_config(self.folder, self.database)
        self.sims = start_simulators(config, prepare(self.switches))
        self.cluster = Cluster(config, self.folder, self.args.workers)
        self.cluster.start()
        self.hub = bootstrap(config, migrate=False)
        say(f"hub on {self.cluster.url} ({self.args.database}, {len(self.cluster.workers)} workers), {self.folder}")
        return self

    def play(self) -> int:
        args, cluster = self.args, self.cluster
        assert cluster is not None
        hub_up = time.monotonic()
        driver = Driver(self.hub.config, self.sims, self.resender, args.duplicates)
        orders = plan_orders(args.orders, self.rng)
        self.chaos = Chaos(self.sims, self.switches, cluster, self.rng, Rates(), say).start()
        faults_on = time.monotonic()
        drive(driver, orders, args.rate, args.seed, time.monotonic() + args.orders / args.rate + 120)
        say(f"{len(orders)} orders played; faults stay on while the hub works (at least {args.tail:.0f} s)")
        keep_faulting(self.hub, orders, args.tail, 4 * args.tail + 60)
        self.chaos.stop()
        faults_off = time.monotonic()
        say("faults off; settling")
        self.resender.close()
        settled_in, settled = settle(self.hub, cluster, args.settle)
        timings = {
            "faults": faults_off - faults_on,
            "settle": settled_in,
            "settled": float(settled),
            "hub_up": time.monotonic() - hub_up,
        }
        code = report(args, self.hub, self.sims, orders, self.chaos, self.switches, cluster, timings)
        self.keep = self.keep or code != 0
        return code

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.keep = True
        if self.chaos is not None:
            self.chaos.stop(restore=False)
        if self.cluster is not None:
            self.cluster.stop()
        if self.hub is not None:
            self.hub.engine.dispose()
        self.resender.close(flush_within=0)
        for sim in self.sims.values():
            threading.Thread(target=sim.stop, daemon=True).start()
        if self.keep:
            say(f"kept {self.folder}" + (f" and schema {self.database.schema}" if self.args.keep else ""))
        if not self.args.keep:
            self.database.drop()
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    with Session(args) as session:
        return session.play()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    venv.databases_ready({args.database})
    try:
        return run(args)
    except KeyboardInterrupt:
        say("interrupted; everything started was stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
