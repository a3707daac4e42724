"""The worker side of ``bench/gateways.py``: what is measured per refund job, the worker threads'
loop, and the entry point of a worker process.

A worker process (started by ``bench/gateways.py`` with the "spawn" method) is what
``refund-hub worker`` is: its own hub bootstrapped from the bench hub's configuration (same
database, same simulators over HTTP) and a number of threads running the hub's worker loop — on
PostgreSQL + Redis a Huey consumer whose threads pop the wake-ups, on SQLite threads started at
once. It waits for the bench's common start signal, works until the bench's stop signal and
writes what it measured (samples, errors, its process CPU, with ``--profile`` a pstats dump)
into the bench's temp folder.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from hub.db.engine import reading
from hub.ledger import outbox as jobs
from hub.runtime.bootstrap import Hub, bootstrap
from hub.runtime.config import load_config
from hub.work.queue import HueyDispatcher
from hub.work.runner import drain

START_TIMEOUT = 300.0  # seconds a worker process waits for the start signal before giving up


@dataclass
class Sample:
    """One ``drain(limit=1)`` call of one worker thread."""

    done_at: float = 0.0  # time.perf_counter(): CLOCK_MONOTONIC, comparable across processes
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the worker thread's CPU time
    gateway_calls: int = 0
    gateway_s: float = 0.0  # inside the adapter's refund()
    gateway_cpu_s: float = 0.0
    platform_s: float = 0.0  # inside the connector's record() (write-back to the platform)
    begins: int = 0  # transactions
    begin_wait_s: float = 0.0  # in the hub's "begin" hook: for a writer, the writer queue and BEGIN IMMEDIATE


class Meter:
    """Fills the current thread's ``Sample`` from the adapter wrapper and the engine's events,
    and notes when the write lock is held (from BEGIN IMMEDIATE to the connection's return to the
    pool, after COMMIT): the intervals, and their sum over all threads of the process."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.lock_held_s = 0.0
        self.held: list[tuple[float, float]] = []  # (start, end), time.perf_counter()

    def reset(self) -> None:
        with self._lock:
            self.lock_held_s, self.held = 0.0, []

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
        """The hub issues BEGIN on the DBAPI connection inside its own engine "begin" listener
        (``hub.db.engine.begin_sqlite``: writer queue, then ``BEGIN IMMEDIATE``), not through a
        cursor: one listener inserted before it notes the start, one appended after it the end."""
        sqlite = engine.dialect.name == "sqlite"

        def before_begin(conn: Any) -> None:
            conn.info["bench_begin"] = time.perf_counter()

        def after_begin(conn: Any) -> None:
            started = conn.info.pop("bench_begin", None)
            if started is None:
                return
            now = time.perf_counter()
            sample = self.sample
            sample.begins += 1
            sample.begin_wait_s += now - started
            if sqlite and conn.get_execution_options().get("sqlite_begin", "IMMEDIATE") == "IMMEDIATE":
                self._local.holding_since = now

        def checkin(*args: Any) -> None:
            since = getattr(self._local, "holding_since", None)
            if since is not None:
                self._local.holding_since = None
                now = time.perf_counter()
                with self._lock:
                    self.lock_held_s += now - since
                    self.held.append((since, now))

        event.listen(engine, "begin", before_begin, insert=True)
        listeners = list(engine.dispatch.begin)
        if listeners[0] is not before_begin:
            # SQLAlchemy 2.1's ConnectionEvents._listen does not pass insert=True on (the listener
            # lands last): move the listeners that were there before it behind it instead
            for listener in listeners[: listeners.index(before_begin)]:
                event.remove(engine, "begin", listener)
                event.listen(engine, "begin", listener)
        event.listen(engine, "begin", after_begin)
        listeners = list(engine.dispatch.begin)
        if listeners[0] is not before_begin or listeners[-1] is not after_begin:
            raise RuntimeError(f"the BEGIN timing listeners do not bracket the hub's: {listeners}")
        event.listen(engine.pool, "checkin", checkin)


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


def instrument(hub: Hub, account: str, connector: str, meter: Meter) -> None:
    """Time the gateway account's ``refund`` and the connector's ``record``; watch the engine."""
    hub.gateways[account] = Timed(hub.gateways[account], "refund", meter)  # type: ignore[assignment]
    hub.connectors[connector] = Timed(hub.connectors[connector], "record", meter)  # type: ignore[assignment]
    meter.watch(hub.engine)


class Crew:
    """Worker threads of one process and what they measured."""

    def __init__(self, hub: Hub, meter: Meter, profile: bool) -> None:
        self.hub, self.meter, self.profile = hub, meter, profile
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.profiles: list[cProfile.Profile] = []
        self.other_jobs, self.other_cpu_s = 0, 0.0  # jobs without a gateway call (write-backs, notices)

    def start(self, count: int, name: str) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.work, name=f"{name}-{i}", daemon=True) for i in range(count)]
        for thread in threads:
            thread.start()
        return threads

    def work(self) -> None:
        """A thread's body: one wake-up."""
        self.woken()

    def woken(self) -> int:
        """What a woken worker does (the hub's ``drain`` task): run jobs one ``drain`` call at a
        time, each measured, until none is left; how many ran."""
        profiler = cProfile.Profile() if self.profile else None
        if profiler:
            profiler.enable()
        done = 0
        while not self.stop.is_set():
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                ran = drain(self.hub, limit=1)
            except Exception as exc:  # noqa: BLE001 - a real worker loop survives this too; count it
                ran = -1
                with self._lock:
                    self.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            sample = self.meter.take()
            sample.done_at = time.perf_counter()
            sample.wall_s, sample.cpu_s = sample.done_at - wall, time.thread_time() - cpu
            done += max(0, ran)
            if ran > 0 and sample.gateway_calls:
                with self._lock:
                    self.samples.append(sample)
            elif ran > 0:
                with self._lock:
                    self.other_jobs, self.other_cpu_s = self.other_jobs + ran, self.other_cpu_s + sample.cpu_s
            elif ran == 0:
                break  # nothing runnable: this drain is over until the next wake-up
        if profiler:
            profiler.disable()
            if done:  # a wake-up that found nothing adds nothing worth merging
                with self._lock:
                    self.profiles.append(profiler)
        return done

    def merged_profile(self) -> pstats.Stats | None:
        if not self.profiles:
            return None
        stats = pstats.Stats(self.profiles[0])
        for extra in self.profiles[1:]:
            stats.add(extra)
        return stats


def runnable(hub: Hub) -> bool:
    """Whether a job can be claimed now (what makes the janitor wake a worker)."""
    with reading(hub.engine) as conn:
        return jobs.runnable(conn) > 0


def worker_process(spec_json: str, ready: Any, start: Any, stop: Any) -> None:
    """A worker process: bootstrap, report ready, wait for ``start``, work until ``stop``.

    ``spec_json``: ``config`` (the bench hub's configuration, ``Config.model_dump(mode="json")``),
    ``index``, ``threads``, ``account``, ``connector``, ``profile``, ``out`` (a file prefix),
    ``warm_payment`` (looked up once before ready), ``queue_name`` (with a Redis ``queue_url`` in
    the configuration: the Huey queue this run's wake-ups go to; empty: no queue)."""
    spec = json.loads(spec_json)
    hub = bootstrap(load_config(data=spec["config"], env={}))
    meter = Meter()
    instrument(hub, spec["account"], spec["connector"], meter)
    crew = Crew(hub, meter, spec["profile"])
    hub.gateways[spec["account"]].payment(spec["warm_payment"])  # a running worker holds its token already
    work = consume if spec["queue_name"] else supervise
    cpu_s, still_running = 0.0, 0
    ready.put(spec["index"])
    if start.wait(START_TIMEOUT) and not stop.is_set():
        meter.reset()
        cpu = time.process_time()
        still_running = work(hub, crew, spec, stop)
        cpu_s = time.process_time() - cpu
    out = Path(spec["out"])
    with crew._lock:
        result = {
            "index": spec["index"],
            "threads": spec["threads"],
            "samples": [asdict(sample) for sample in crew.samples],
            "errors": list(crew.errors),
            "cpu_s": cpu_s,
            "lock_held_s": meter.lock_held_s,
            "held": list(meter.held),
            "still_running": still_running,
            "other_jobs": crew.other_jobs,
            "other_cpu_s": crew.other_cpu_s,
        }
    profile = crew.merged_profile()
    if profile is not None:
        profile.dump_stats(f"{out}.pstats")
    Path(f"{out}.json").write_text(json.dumps(result))
    hub.engine.dispose()


def supervise(hub: Hub, crew: Crew, spec: dict[str, Any], stop: Any) -> int:
    """No queue (SQLite): the threads run at once, and again whenever all of them stopped while a
    job is runnable (one retried later, as the janitor would wake a worker for it); how many
    threads were still in a job at the end."""
    threads = crew.start(spec["threads"], f"bench-worker-{spec['index']}")
    while not stop.wait(0.05):
        if not any(thread.is_alive() for thread in threads) and runnable(hub):
            threads = crew.start(spec["threads"], f"bench-worker-{spec['index']}")
    crew.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return sum(thread.is_alive() for thread in threads)


def consume(hub: Hub, crew: Crew, spec: dict[str, Any], stop: Any) -> int:
    """What ``refund-hub worker`` runs on Redis (``hub.cli.serve.run_worker``, janitor aside): a
    Huey consumer with ``threads`` threads, each popping wake-ups (BRPOP) and running the hub's
    ``drain`` task for each; here the task is the measured ``Crew.woken``. The hub's own
    wake-ups go to the same queue. How many threads had not stopped 30 s after ``stop``."""
    from huey import RedisHuey

    huey = RedisHuey(spec["queue_name"], url=hub.config.hub.queue, results=False)
    hub.dispatcher = HueyDispatcher(huey, crew.woken)
    consumer = huey.create_consumer(workers=spec["threads"], worker_type="thread", periodic=False, shutdown_timeout=30)
    consumer.start()
    stop.wait()
    crew.stop.set()
    consumer.stop(graceful=True)
    return sum(consumer.environment.is_alive(process) for _, process in consumer.worker_threads)
