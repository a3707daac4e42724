"""The webhook hot path: the compiled DBAPI writer, the SQLite writer queue, coalesced wake-ups."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.contracts import Headers, Inbound, Verified
from hub.db.engine import begin_sqlite, make_engine
from hub.db.migrate import upgrade
from hub.db.tables import deliveries, jobs
from hub.db.writelock import QueuedWriterConnection
from hub.errors import StorageUnavailable
from hub.ingest.writer import Arrival, DeliveryWriter, new_delivery_id
from hub.work.wakeups import CoalescingWaker
from tests.hub.conftest import World


@pytest.fixture
def engine(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


def arrival(key: str, body: bytes = b'{"a": 1}', ack_only: bool = False) -> Arrival:
    inbound = Inbound(headers=Headers({"X-Event": key, "Content-Type": "application/json"}), body=body)
    return Arrival(
        "sandbox", Verified(store_id="s1", topic="refund.requested", dedupe_key=key, ack_only=ack_only), inbound
    )


def test_a_batch_is_stored_as_sqlalchemy_reads_it_with_duplicates_inside_the_batch(engine: sa.Engine) -> None:
    receipts = DeliveryWriter(engine).write(
        [arrival("e1", b"\x00\xffraw"), arrival("e1"), arrival("ping", ack_only=True), arrival("e2")]
    )
    assert [r.duplicate for r in receipts] == [False, True, False, False]
    assert receipts[1].delivery_id == receipts[0].delivery_id
    with engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == receipts[0].delivery_id)).one()
        kinds = conn.execute(sa.select(jobs.c.subject_id).where(jobs.c.kind == "delivery")).scalars().all()
    assert row.body == b"\x00\xffraw"
    assert row.headers == {"x-event": "e1", "content-type": "application/json"}
    assert row.status == "received"
    assert row.dedupe_key == "e1"
    assert row.topic == "refund.requested"
    assert isinstance(row.received_at, datetime)
    # one job per new, non-ping delivery: the duplicate and the ping make none
    assert sorted(kinds) == sorted([receipts[0].delivery_id, receipts[3].delivery_id])


def test_a_refused_batch_stores_none_of_it(engine: sa.Engine) -> None:
    refuse_delivery_jobs(engine)
    with pytest.raises(StorageUnavailable):
        DeliveryWriter(engine).write([arrival("ok-alone-but-in-a-failing-batch"), arrival("e3")])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar_one() == 0


def refuse_delivery_jobs(engine: sa.Engine) -> None:
    """Make the database refuse every delivery job, as a full disk or a broken schema would."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql("ALTER TABLE jobs ADD CONSTRAINT refuse CHECK (kind <> 'delivery') NOT VALID")


def test_a_delivery_the_database_refuses_is_answered_503_and_can_be_sent_again(world: World) -> None:
    refuse_delivery_jobs(world.hub.hub.engine)
    world.order("1001", 5000)
    raw, headers = world.platform.request_refund("1001", 1000, send=False)
    answer = world.post(raw, headers)
    assert answer.status_code == 503
    assert answer.json["error"] == "storage_unavailable"
    with world.hub.hub.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse")
    assert world.post(raw, headers).json["result"] == "accepted"  # the retry is not a "duplicate"


def test_delivery_ids_sort_by_arrival() -> None:
    ids = [new_delivery_id() for _ in range(200)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 200
    assert all(len(i) == 32 for i in ids)


def test_sqlite_writers_wait_in_turn_and_commit_or_rollback_lets_the_next_one_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    first, second = engine.raw_connection(), engine.raw_connection()
    assert isinstance(first.dbapi_connection, QueuedWriterConnection)
    events: list[str] = []
    begin_sqlite(first.dbapi_connection, first.info)

    def second_writer() -> None:
        begin_sqlite(second.dbapi_connection, second.info)
        events.append("second began")
        second.rollback()

    waiter = threading.Thread(target=second_writer)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()
    assert events == []
    events.append("first commits")
    first.commit()
    waiter.join(5)
    assert events == ["first commits", "second began"]
    begin_sqlite(first.dbapi_connection, first.info)  # the rollback released the queue too
    first.rollback()
    first.close(), second.close()
    engine.dispose()


def test_a_second_write_in_the_same_thread_fails_instead_of_waiting_for_itself(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    outer, inner = engine.raw_connection(), engine.raw_connection()
    inner.dbapi_connection.execute("PRAGMA busy_timeout=50")
    begin_sqlite(outer.dbapi_connection, outer.info)
    with pytest.raises(Exception, match="locked"):
        begin_sqlite(inner.dbapi_connection, inner.info)
    outer.rollback()
    begin_sqlite(inner.dbapi_connection, inner.info)
    inner.rollback()
    outer.close(), inner.close()
    engine.dispose()


def test_a_killed_writer_process_releases_the_queue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(make_engine(url))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from hub.db.engine import make_engine, begin_sqlite\n"
            f"raw = make_engine({url!r}).raw_connection()\n"
            "begin_sqlite(raw.dbapi_connection, raw.info)\n"
            "print('holding', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == b"holding"
    holder.kill()
    holder.wait()
    engine = make_engine(url)
    with engine.begin() as conn:  # would wait for SQLite's 10 s busy timeout and fail if the lock stayed
        conn.execute(sa.delete(jobs))
    engine.dispose()


class CountingDispatcher:
    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


def test_wake_ups_are_coalesced_but_never_lost() -> None:
    dispatcher = CountingDispatcher()
    waker = CoalescingWaker(dispatcher, interval=0.3)
    for _ in range(500):
        waker.poke()
    deadline = time.monotonic() + 5
    while dispatcher.wakes < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 1 <= dispatcher.wakes <= 2  # 500 deliveries, one wake-up (two if the first came mid-burst)
    before = dispatcher.wakes
    waker.poke()  # a delivery after the burst still wakes a worker
    while dispatcher.wakes == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert dispatcher.wakes == before + 1


@pytest.mark.postgres
def test_a_database_restart_under_the_held_connection_costs_no_delivery(pg_engine: sa.Engine) -> None:
    upgrade(pg_engine)
    writer = DeliveryWriter(pg_engine)
    writer.write([arrival("before")])
    backend = writer._connection().dbapi_connection.info.backend_pid
    with pg_engine.connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    [receipt] = writer.write([arrival("after")])
    assert not receipt.duplicate
    with pg_engine.connect() as conn:
        keys = conn.execute(sa.select(deliveries.c.dedupe_key).order_by(deliveries.c.dedupe_key)).scalars().all()
    assert keys == ["after", "before"]


def test_a_claim_made_durable_in_a_recoverable_transaction_syncs_the_wal_after_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.db import writelock
    from hub.db.engine import make_durable, recoverable

    synced: list[str] = []
    monkeypatch.setattr(writelock, "_fsync_path", synced.append)
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(engine)
    with recoverable(engine) as conn:  # bookkeeping only: nothing to sync
        conn.execute(sa.delete(jobs))
    assert synced == []
    with recoverable(engine) as conn:
        conn.execute(sa.delete(jobs))
        make_durable(conn)
        assert synced == []  # not before the commit
    assert synced == [f"{tmp_path / 'hub.db'}-wal"]
    engine.dispose()


def test_a_lone_surrogate_fails_no_one_in_its_batch(engine: sa.Engine) -> None:
    """A signed body may carry ``"\\ud800"`` (legal JSON, not UTF-8): its delivery is stored under
    an escaped key, and the genuine deliveries written in the same transaction are stored too."""
    hostile = Arrival(
        "sandbox",
        Verified(store_id="s\ud800", topic="refund.\udfff", dedupe_key="evt-\ud800", ack_only=False),
        Inbound(headers=Headers({"X-Event": "h"}), body=b'{"id":"\\ud800"}'),
    )
    receipts = DeliveryWriter(engine).write([arrival("g1"), hostile, arrival("g2"), hostile])
    assert [r.duplicate for r in receipts] == [False, False, False, True]
    with engine.connect() as conn:
        keys = conn.execute(sa.select(deliveries.c.dedupe_key).order_by(deliveries.c.received_at)).scalars().all()
    assert sorted(keys) == sorted(["g1", "evt-\\ud800", "g2"])


def test_one_stores_event_id_is_not_another_stores_duplicate(engine: sa.Engine) -> None:
    """Adobe I/O event ids (and the sandbox's raw ids) are not unique across stores."""
    other = Arrival(
        "sandbox",
        Verified(store_id="s2", topic="refund.requested", dedupe_key="e1", ack_only=False),
        Inbound(headers=Headers({}), body=b"{}"),
    )
    receipts = DeliveryWriter(engine).write([arrival("e1"), other, arrival("e1")])
    assert [r.duplicate for r in receipts] == [False, False, True]
    assert receipts[2].delivery_id == receipts[0].delivery_id
