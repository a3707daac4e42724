"""The faults: what each simulator's own fault plan can do (5xx before the work, connection resets,
timeouts, lost and late responses), two faults the bench adds around the simulators' Flask apps
without changing them (a 5xx AFTER the work was done; a store refusing its write-backs for a
while), and SIGKILL of worker processes at random moments."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify, request

from bench.faults.world import CLIENT_TIMEOUT, Cluster
from hub.sandbox.base import Simulator
from hub.sandbox.simserver import ERROR, LOST_RESPONSE, RESET, SLOW_RESPONSE, TIMEOUT, Fault

# where each simulator moves money (gateways) or takes the hub's write-backs (platforms)
MONEY_PATHS = {
    "stripe": r"^/v1/refunds$",
    "paypal": r"^/v(1/payments/sale|2/payments/captures)/[^/]+/refund$",
    "square": r"^/v2/refunds$",
}
LOOKUP_PATHS = {
    "stripe": r"^/v1/refunds",
    "paypal": r"^/v(2/payments/refunds|1/payments/refund)/",  # not captures: the dispute check reads those
    "square": r"^/v2/refunds",
}
WRITE_PATHS = {
    "shopify": r"/graphql\.json$",
    "woocommerce": r"/orders/\d+/(refunds|notes)$",
    "magento": r"^/rest/V1/(order/\d+/refund|invoice/\d+/refund|orders/\d+/comments)$",
}
AFTER_WORK_5XX = "error_after_work"
OUTAGE = "store_refused"


@dataclass
class Switches:
    """What the bench's own hooks do right now, per simulator (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    after_work: Counter[str] = field(default_factory=Counter)  # sim -> money calls to answer 500 after the work
    outage_until: dict[str, float] = field(default_factory=dict)  # sim -> monotonic end of its write-back outage
    fired: Counter[str] = field(default_factory=Counter)  # fault kind -> times it hit a request

    def take_after_work(self, name: str) -> bool:
        with self.lock:
            if self.after_work[name] > 0:
                self.after_work[name] -= 1
                self.fired[AFTER_WORK_5XX] += 1
                return True
            return False

    def refusing(self, name: str) -> bool:
        with self.lock:
            if self.outage_until.get(name, 0.0) > time.monotonic():
                self.fired[OUTAGE] += 1
                return True
            return False

    def clear(self) -> None:
        with self.lock:
            self.after_work.clear()
            self.outage_until.clear()


def prepare(switches: Switches) -> Callable[[Simulator], None]:
    """Hook a simulator before it serves: count its own plan's faults, add the bench's two."""

    def hook(sim: Simulator) -> None:
        _count_plan(sim, switches)
        name = sim.name
        if name in MONEY_PATHS:
            money = re.compile(MONEY_PATHS[name])

            @sim.app.after_request
            def _fail_after_work(response: Response) -> Response:
                done = request.method == "POST" and money.search(request.path) and response.status_code < 300
                if done and switches.take_after_work(name):
                    failed = jsonify(sim.error_body(500))
                    failed.status_code = 500
                    return failed
                return response

        if name in WRITE_PATHS:
            writes = re.compile(WRITE_PATHS[name])

            @sim.app.before_request
            def _refuse_writes() -> Any:
                if request.method not in ("POST", "PUT") or not writes.search(request.path):
                    return None
                if name == "shopify" and b"mutation" not in request.get_data():
                    return None  # reads go on: only the store's writes are refused
                if switches.refusing(name):
                    refused = jsonify(sim.error_body(503))
                    refused.status_code = 503
                    return refused
                return None

    return hook


def _count_plan(sim: Simulator, switches: Switches) -> None:
    plan = sim.faults
    take = plan.take

    def counted(method: str, path: str) -> Fault | None:
        fault = take(method, path)
        if fault is not None:
            with switches.lock:
                switches.fired[fault.kind] += 1
        return fault

    plan.take = counted  # type: ignore[method-assign]


@dataclass
class Rates:
    gateway_faults_per_s: float = 1.5  # across the three gateways (each waits for its next matching call)
    store_outage_every: tuple[float, float] = (6.0, 14.0)  # seconds between write-back outages
    store_outage_for: tuple[float, float] = (2.0, 8.0)
    kill_every: tuple[float, float] = (8.0, 20.0)  # a worker needs a few seconds to start
    restart_after: tuple[float, float] = (0.5, 3.0)


class Chaos:
    """A thread that injects faults and kills workers until ``stop``; everything bounded by it."""

    def __init__(
        self,
        sims: dict[str, Simulator],
        switches: Switches,
        cluster: Cluster,
        rng: random.Random,
        rates: Rates,
        log: Callable[[str], None],
    ) -> None:
        self.sims = sims
        self.switches = switches
        self.cluster = cluster
        self.rng = rng
        self.rates = rates
        self.log = log
        self.injected: Counter[str] = Counter()
        self.kill_log: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)

    def start(self) -> Chaos:
        self._thread.start()
        return self

    def stop(self, restore: bool = True) -> None:
        """Faults off: stop injecting, clear every plan and switch, bring the workers back."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=15)
        for sim in self.sims.values():
            sim.faults.clear()
        self.switches.clear()
        if restore:
            self.cluster.restore()

    def _run(self) -> None:
        tick = 0.1
        now = time.monotonic()
        next_outage = now + self.rng.uniform(*self.rates.store_outage_every)
        next_kill = now + self.rng.uniform(*self.rates.kill_every)
        restart_at: float | None = None
        while not self._stop.wait(tick):
            now = time.monotonic()
            if self.rng.random() < self.rates.gateway_faults_per_s * tick:
                self._gateway_fault()
            if now >= next_outage:
                self._store_fault(now)
                next_outage = now + self.rng.uniform(*self.rates.store_outage_every)
            if now >= next_kill:
                try:
                    victim = self.cluster.kill_one(self.rng)
                except OSError as exc:
                    victim = f"kill failed: {exc}"
                self.kill_log.append(victim)
                self.log(f"kill -9 {victim}")
                next_kill = now + self.rng.uniform(*self.rates.kill_every)
                restart_at = now + self.rng.uniform(*self.rates.restart_after)
            if restart_at is not None and now >= restart_at:
                self.cluster.restore()
                restart_at = None

    def _gateway_fault(self) -> None:
        name = self.rng.choice(sorted(MONEY_PATHS))
        sim = self.sims[name]
        roll = self.rng.random()
        money = MONEY_PATHS[name]
        if roll < 0.2:
            with self.switches.lock:
                self.switches.after_work[name] += 1
            kind = AFTER_WORK_5XX
        elif roll < 0.35:
            sim.faults.add(ERROR, status=self.rng.choice((500, 502, 503)), method="POST", path=money)
            kind = ERROR
        elif roll < 0.5:
            sim.faults.add(RESET, method="POST", path=money)
            kind = RESET
        elif roll < 0.65:
            sim.faults.add(LOST_RESPONSE, method="POST", path=money)
            kind = LOST_RESPONSE
        elif roll < 0.75:
            sim.faults.add(TIMEOUT, seconds=CLIENT_TIMEOUT + 1.5, method="POST", path=money)
            kind = TIMEOUT
        elif roll < 0.85:
            sim.faults.add(SLOW_RESPONSE, seconds=CLIENT_TIMEOUT + 1.5, method="POST", path=money)
            kind = SLOW_RESPONSE
        else:  # the lookups resolution depends on
            sim.faults.add(ERROR, status=503, method="GET", path=LOOKUP_PATHS[name], times=self.rng.randint(1, 2))
            kind = "lookup_error"
        self.injected[f"{name}:{kind}"] += 1

    def _store_fault(self, now: float) -> None:
        name = self.rng.choice(sorted(WRITE_PATHS))
        if self.rng.random() < 0.5:
            seconds = self.rng.uniform(*self.rates.store_outage_for)
            with self.switches.lock:
                self.switches.outage_until[name] = now + seconds
            self.injected[f"{name}:{OUTAGE}"] += 1
            self.log(f"{name} refuses write-backs for {seconds:.1f} s")
        else:  # the record is made, the answer lost: a retried write-back must not record it twice
            times = self.rng.randint(1, 3)
            self.sims[name].faults.add(LOST_RESPONSE, method="POST", path=WRITE_PATHS[name], times=times)
            self.injected[f"{name}:{LOST_RESPONSE}"] += times
