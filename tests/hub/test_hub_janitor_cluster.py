"""Many janitors, one duty's work done once: duties claimed across processes, one resolver per
refund, each store polled once per interval in total, cursors saved as a poll goes."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.contracts import Notice, PollResult, RefundLookup, RefundResult
from hub.ledger import duties, outbox, states
from hub.ledger import refunds as ledger
from hub.ledger.unit import read, write
from hub.pipeline.execute import execution_for, take
from hub.pipeline.polling import CURSOR_KEY, poll_store
from hub.pipeline.resolve import expire_executions, resolve_unsettled
from hub.sandbox.gateway import SandboxGateway
from hub.work.janitor import Duty, perform, sweep
from hub.work.runner import run_job


class CountingLookups(SandboxGateway):
    """The sandbox gateway, counting (and slowing) refund lookups: two janitors meet mid-ask."""

    lookups: Counter[str] = Counter()
    lock = threading.Lock()

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        with self.lock:
            CountingLookups.lookups[lookup.hub_refund_id] += 1
        threading.Event().wait(0.05)
        return super().get_refund(lookup)


def _unknown_but_paid(world: Any, order_id: str) -> str:
    """A refund the gateway made whose answer was lost: ``unknown`` in the ledger."""
    hub = world.hub.hub
    world.order(order_id, 1000)
    raw, headers = world.platform.request_refund(order_id, 400, send=False)
    assert world.post(raw, headers).status_code == 200
    while True:
        job = outbox.claim_next(hub.engine, timedelta(seconds=30))
        assert job is not None
        if job.kind == outbox.JobKind.REFUND:
            break
        run_job(hub, job.id, job.kind, job.subject_id, job.attempts)
    with write(hub.engine) as conn:
        taken = take(conn, job.subject_id, timedelta(seconds=1))
    assert taken.claimed
    assert taken.row is not None
    hub.gateways["sandbox"].refund(execution_for(taken.row))  # the money moved; the worker died
    expire_executions(hub, datetime.now(UTC) + timedelta(seconds=5))
    return job.subject_id


@pytest.mark.parametrize("through", ["duty", "resolver"])
def test_two_janitors_resolve_each_refund_once(any_world: Any, through: str) -> None:
    """Through the janitor's ``resolve`` duty (claimed once across the cluster), and two
    resolvers running side by side anyway (each refund's resolution claimed on its own)."""
    world, hub = any_world, any_world.hub.hub
    world.gateway.webhook_url = ""  # no status events: only the janitors can find out
    ids = [_unknown_but_paid(world, f"9{n:03d}") for n in range(6)]
    hub.gateways["sandbox"] = CountingLookups("sandbox", dict(hub.gateways["sandbox"].settings))
    CountingLookups.lookups.clear()
    if through == "duty":
        janitors = [threading.Thread(target=sweep, args=(hub,), kwargs={"slow": False}) for _ in range(2)]
    else:
        now = datetime.now(UTC)
        janitors = [threading.Thread(target=resolve_unsettled, args=(hub, now)) for _ in range(2)]
    for janitor in janitors:
        janitor.start()
    for janitor in janitors:
        janitor.join()
    assert all(CountingLookups.lookups[i] == 1 for i in ids), CountingLookups.lookups
    with read(hub.engine) as conn:
        assert [ledger.get(conn, i).state for i in ids] == [states.SUCCEEDED] * len(ids)  # type: ignore[union-attr]
        open_write_backs = [j for j in _open_jobs(conn) if j == outbox.JobKind.WRITE_BACK]
    assert len(open_write_backs) == len(ids)  # one write-back job each, not one per janitor
    world.hub.settle(senders=[world.platform.sender])
    for refund_id in ids:
        written = [r for r in world.platform.refunds.get(_order_of(world, refund_id), []) if r.get("hub_refund_id")]
        assert len(written) == 1


def _open_jobs(conn: Any) -> list[str]:
    from hub.db.tables import jobs  # the test reads the outbox table as it is

    return [r.kind for r in conn.execute(jobs.select().where(jobs.c.state != "done"))]


def _order_of(world: Any, refund_id: str) -> str:
    return next(r.order_id for r in world.hub.refunds() if r.id == refund_id)


def test_a_paced_duty_runs_once_per_interval_however_many_janitors(any_world: Any) -> None:
    hub = any_world.hub.hub
    ran: list[str] = []
    duty = Duty("poll:sandbox:s", 15, 60, lambda h, now: Counter(polled=len(ran.append("x") or ran)))
    now = datetime.now(UTC)
    for _ in range(3):  # three janitors, the same moment
        perform(hub, duty, now, paced=True)
    assert ran == ["x"]
    perform(hub, duty, now + timedelta(seconds=5), paced=True)
    assert ran == ["x"]
    perform(hub, duty, now + timedelta(seconds=16), paced=True)
    assert ran == ["x", "x"]
    with read(hub.engine) as conn:
        [run] = [d for d in duties.runs(conn) if d.name == "poll:sandbox:s"]
    assert (run.runs, run.failures) == (2, 0)


def test_a_failing_duty_is_recorded_and_released(any_world: Any) -> None:
    hub = any_world.hub.hub

    def broken(h: Any, now: datetime) -> Counter[str]:
        raise RuntimeError("platform down")

    duty = Duty("poll:sandbox:broken", 15, 60, broken)
    now = datetime.now(UTC)
    assert perform(hub, duty, now, paced=False) == Counter(failed=1)
    assert perform(hub, duty, now, paced=False) == Counter(failed=1)  # released: the next may run it
    with read(hub.engine) as conn:
        [run] = [d for d in duties.runs(conn) if d.name == "poll:sandbox:broken"]
    assert (run.runs, run.failures) == (2, 2)


class PagedPoll:
    """A connector's poll over three pages, failing on the third the first time."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.fail = True
        self.asked: list[str | None] = []

    def pages(self, store: Any, cursor: str | None) -> Iterator[PollResult]:
        self.asked.append(cursor)
        start = int(cursor or 0)
        for page in range(start + 1, 4):
            if page == 3 and self.fail:
                self.fail = False
                raise ConnectionError("503 on page 3")
            yield PollResult(notices=[Notice("ignored", store.id, f"page-{page}")], cursor=str(page))


def test_a_poll_that_fails_half_way_resumes_from_its_last_saved_page(any_world: Any) -> None:
    hub = any_world.hub.hub
    connector = hub.connectors["sandbox"]
    paged = PagedPoll(connector)
    connector.poll = paged.pages  # type: ignore[method-assign]
    store = hub.stores["sandbox"].all()[0]
    first = poll_store(hub, "sandbox", store)
    assert first["polled"] == 2
    assert hub.stores["sandbox"].get_state(store.id, CURSOR_KEY) == "2"  # saved as it went
    second = poll_store(hub, "sandbox", store)
    assert second["polled"] == 1
    assert paged.asked == [None, "2"]
    assert hub.stores["sandbox"].get_state(store.id, CURSOR_KEY) == "3"


def test_two_janitors_saving_a_cursor_at_once_never_collide(any_world: Any) -> None:
    directory = any_world.hub.hub.stores["sandbox"]
    store = directory.all()[0]
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            for i in range(30):
                directory.set_state(store.id, CURSOR_KEY, f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert directory.get_state(store.id, CURSOR_KEY) is not None


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    CountingLookups.lookups.clear()
