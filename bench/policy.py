"""Benchmark the policy engine: decisions/s against histories of 1k and 100k prior refunds, and
one ``simulate`` run over 100 000 generated records.

    nice .venv/bin/python bench/policy.py [--records 100000] [--decisions 3000] [--rounds 5] [--processes N]

Each figure is printed with its baseline from the same run and the ratio the targets name: a
history of 100 000 against one of 1 000 (>= 0.90), the example's CEL rules against its built-in
rules alone (<= 2x), and ``simulate`` over 100 000 records with the CEL rules (<= 20 s).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench.in_venv  # noqa: F401  (first: re-executes inside .venv)

# isort: split

from hub.models import Customer, DigitalUsage, Line, OrderFacts, Payment, ProductKind, ReasonCode, RefundRequest
from hub.policy import Decision, History, Policy, PriorRefund, SimulationRecord, decide, load_policy, simulate
from hub.policy.defaults import EXAMPLE_POLICY_PATH
from hub.policy.loader import read_file

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
CUSTOMERS = 5_000
REGULARS = 200  # customers of the decide() benchmark, each with two prior refunds
HISTORY_DAYS = 180  # the example policy's [history] lookback_days
REASONS = [ReasonCode.CHANGED_MIND, ReasonCode.DAMAGED, ReasonCode.SIZE_OR_FIT, ReasonCode.DEFECTIVE]


def make_request(rng: random.Random, n: int, customers: int = CUSTOMERS) -> RefundRequest:
    customer = rng.randrange(customers)
    created = NOW - timedelta(days=rng.uniform(2, 60))
    lines = []
    for i in range(rng.randint(1, 4)):
        kind = rng.choices([ProductKind.PHYSICAL, ProductKind.DIGITAL, ProductKind.SERVICE], [6, 3, 1])[0]
        usage = DigitalUsage(downloads=rng.randint(0, 2), activations=0) if kind is ProductKind.DIGITAL else None
        lines.append(
            Line(
                line_id=str(i + 1),
                sku=rng.choice(["TSHIRT-1", "CLEAR-9", "MUG-2", "EBOOK-7"]),
                title=f"Item {i + 1}",
                quantity=rng.randint(1, 3),
                unit_price=rng.randint(500, 20_000),
                tax=rng.randint(0, 500),
                kind=kind,
                final_sale=rng.random() < 0.05,
                tags=tuple(rng.sample(["formalwear", "collection:outlet", "new", "sale"], k=rng.randint(0, 2))),
                usage=usage,
            )
        )
    shipping = rng.choice([0, 499, 990])
    amount = sum(line.total for line in lines) + shipping
    return RefundRequest(
        connector="bench",
        store_id="store",
        order_id=f"order-{n}",
        source_ref=f"ref-{n}",
        customer=Customer(id=str(customer), email=f"c{customer}@example.com"),
        order=OrderFacts(
            created_at=created,
            paid_at=created,
            fulfilled_at=created + timedelta(days=1),
            delivered_at=created + timedelta(days=3) if rng.random() < 0.8 else None,
            currency="EUR",
            total=amount,
            captured=amount,
        ),
        lines=tuple(lines),
        shipping=shipping,
        amount=amount,
        currency="EUR",
        reason=rng.choice(REASONS),
        payments=(
            Payment(
                platform_label="stripe",
                reference=f"pi-{n}",
                captured=amount,
                currency="EUR",
                extra={"fingerprint": f"card-{customer}"},
            ),
        ),
        requested_at=NOW - timedelta(minutes=rng.randint(0, 600)),
    )


def make_history(rng: random.Random, size: int, lookback_days: int, regulars: int = 0) -> History:
    """``size`` prior refunds: two each for ``regulars`` customers the requests come from, the
    rest by other customers, so a requester's own past is the same whatever the size."""
    priors = []
    for i in range(size):
        customer = i // 2 if i < 2 * regulars else CUSTOMERS + rng.randrange(10 * size)
        priors.append(
            PriorRefund(
                refund_id=f"r{i}",
                order_id=f"o{rng.randrange(size // 2 + 1)}",
                customer_id=str(customer),
                email=f"c{customer}@example.com",
                payment_fingerprint=f"card-{customer}",
                amount=rng.randint(100, 30_000),
                currency="EUR",
                state=rng.choice(["succeeded", "succeeded", "pending", "failed", "denied"]),
                created_at=NOW - timedelta(seconds=rng.uniform(0, lookback_days * 86_400)),
            )
        )
    priors.sort(key=lambda p: p.created_at, reverse=True)
    return History(prior_refunds=tuple(priors), customer_order_count=25, customer_order_total=10**6)


def timed(fn: Callable[[], Any], clock: Callable[[], float] = time.perf_counter) -> tuple[float, Any]:
    start = clock()
    result = fn()
    return clock() - start, result


def cpu_timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this process: steadier than wall time on a machine shared with others."""
    return timed(fn, time.process_time)


def bench_decide(
    policies: dict[str, Policy], requests: list[RefundRequest], sizes: tuple[int, ...], rounds: int
) -> None:
    """Decisions/s for every (policy, history size), then the two ratios the targets name: a large
    history against a small one (the baseline: the same policy at ``min(sizes)``) and the CEL
    rules against the built-in ones (the baseline: the built-in rules at the same size).

    One History per size; the first decision builds its index (linear, once per History), the
    following decisions — each for a different customer — only search it. The rounds are
    interleaved (every policy and size once per round) and the best round counts, as timeit
    does: other jobs on a shared machine slow a whole stretch of time, and interleaving spreads
    that over every figure instead of one."""
    histories = {size: make_history(random.Random(size), size, HISTORY_DAYS, REGULARS) for size in sizes}
    first: dict[int, float] = {}  # the first decision builds a History's index, once; later ones find it
    for policy in policies.values():
        for size, history in histories.items():
            first.setdefault(size, cpu_timed(partial(decide, policy, requests[0], history, NOW))[0])
    best: dict[tuple[str, int], float] = {}
    for _ in range(rounds):
        for name, policy in policies.items():
            for size, history in histories.items():
                elapsed = cpu_timed(partial(_decide_all, policy, requests[1:], history))[0]
                best[name, size] = min(elapsed, best.get((name, size), elapsed))
    rate = {key: (len(requests) - 1) / elapsed for key, elapsed in best.items()}
    small, large = min(sizes), max(sizes)
    print(f"  {'':<18}" + "".join(f"{f'history {size:,}':>18}" for size in sizes) + f"{'ratio':>10}  (target >= 0.90)")
    for name in policies:
        figures = "".join(f"{f'{rate[name, size]:,.0f}/s':>18}" for size in sizes)
        print(f"  {name:<18}{figures}{rate[name, large] / rate[name, small]:>10.2f}  ({large:,} vs {small:,})")
    built = ", ".join(f"{size:,}: {seconds * 1000:,.1f} ms" for size, seconds in first.items())
    print(f"  first decision, building the History's index (once per History): {built}")
    builtin, *custom = policies
    for name in custom:
        costs = ", ".join(f"{rate[builtin, size] / rate[name, size]:.2f}x at {size:,}" for size in sizes)
        print(f"  cost of {name.lstrip('+ ')} against the built-in rules alone: {costs}  (target <= 2.00x)")


def _decide_all(policy: Policy, requests: list[RefundRequest], history: History) -> None:
    for request in requests:
        decide(policy, request, history, NOW)


def make_records(count: int, lookback_days: int) -> list[SimulationRecord]:
    rng = random.Random(42)
    pool = [make_request(rng, n) for n in range(5_000)]
    actions = ["approve", "approve", "approve", "approve_partial", "deny", "review"]
    records = []
    for n in range(count):
        request = pool[n % len(pool)]
        history = make_history(rng, rng.choice([0, 0, 1, 2, 5]), lookback_days)  # a fresh History per record
        action = rng.choice(actions)
        amount = 0 if action == "deny" else request.amount
        stored = Decision(action=action, amount=amount, rules=(), explanation="", policy_version="old+0")  # type: ignore[arg-type]
        records.append(SimulationRecord(f"refund-{n}", request, history, NOW, stored))
    return records


def bench_simulate(policies: dict[str, Policy], count: int, processes: int) -> None:
    """``simulate`` per policy over the same ``count`` records, in one process and then shared out
    to ``processes`` forked workers (``refund-hub policy simulate`` uses one per core); the
    built-in rules in one process are the baseline. Wall time is the target's figure (on a shared
    machine it also counts other jobs: the CPU time beside it is this process's own, and its
    workers')."""
    records = make_records(count, HISTORY_DAYS)
    runs = [(name, policy, n) for n in dict.fromkeys((1, processes)) for name, policy in policies.items()]
    seconds: dict[tuple[str, int], tuple[float, float]] = {}
    for name, policy, n in runs:
        cpu_start = _cpu_with_children()
        elapsed, report = timed(partial(simulate, policy, records, processes=n))
        cpu = _cpu_with_children() - cpu_start
        seconds[name, n] = (elapsed, cpu)
        print(
            f"  {name:<18} {n} process{'es' if n > 1 else '  '}: {elapsed:6.1f} s wall, {cpu:6.1f} s CPU  "
            f"({report.total / elapsed:,.0f} records/s wall, {report.total / cpu:,.0f}/s CPU, "
            f"{report.changed:,} changed)"
        )
    builtin, *custom = policies
    for name in custom:
        for n in dict.fromkeys((1, processes)):
            wall, cpu = (seconds[name, n][i] / seconds[builtin, 1][i] for i in (0, 1))
            print(
                f"  {name.lstrip('+ ')}, {n} process{'es' if n > 1 else ''}, against the built-in rules, 1 process: "
                f"{wall:.2f}x wall, {cpu:.2f}x CPU; {seconds[name, n][0] * 100_000 / count:.1f} s wall per 100,000 "
                "records (target <= 20 s)"
            )


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=5, help="decide() rounds, interleaved; the best counts")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="simulate()'s second run")
    args = parser.parse_args()
    source = dict(read_file(EXAMPLE_POLICY_PATH))
    full = load_policy(source)
    builtin = load_policy({k: v for k, v in source.items() if k != "rules"})
    assert full.history_lookback_days == builtin.history_lookback_days == HISTORY_DAYS
    policies = {"built-in rules": builtin, f"+ {len(full.sections.rules)} CEL rules": full}
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average {_load()}; {_engine()}")
    rng = random.Random(7)
    requests = [make_request(rng, n, REGULARS) for n in range(args.decisions)]
    print(f"decide(): {args.decisions:,} requests (different customers), CPU rate, best of {args.rounds} rounds")
    bench_decide(policies, requests, (1_000, 100_000), args.rounds)
    if args.records:
        print(f"simulate(): {args.records:,} records, each with its own small History")
        bench_simulate(policies, args.records, args.processes)
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


def _engine() -> str:
    from importlib.metadata import version

    return f"CEL runtime cel-expr-python {version('cel-expr-python')}"


if __name__ == "__main__":
    main()
