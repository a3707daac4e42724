"""The ingest service: one process commits the deliveries of every web worker (group commit)."""

from __future__ import annotations

import marshal
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import deliveries, jobs
from hub.errors import StorageUnavailable
from hub.ingest.service import (
    IngestService,
    ServiceWriter,
    decode_arrivals,
    decode_receipts,
    encode_arrivals,
    read_frame,
    run,
    send_frame,
)
from hub.ingest.writer import DeliveryWriter, Receipt
from tests.hub.conftest import World
from tests.hub.test_hub_ingest_path import arrival, refuse_delivery_jobs


@pytest.fixture
def engine(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    return tmp_path / "ingest.sock"


@pytest.fixture
def service(engine: sa.Engine, socket_path: Path) -> Iterator[IngestService]:
    """A service whose rounds the test runs itself (nothing happens between them)."""
    service = IngestService(engine, socket_path)
    yield service
    service.close()


def connect(path: Path) -> socket.socket:
    peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    peer.settimeout(10)
    peer.connect(str(path))
    return peer


def stored(engine: sa.Engine) -> tuple[list[str], int]:
    with engine.connect() as conn:
        keys = conn.execute(sa.select(deliveries.c.dedupe_key).order_by(deliveries.c.dedupe_key)).scalars().all()
        job_count = conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one()
    return list(keys), job_count


def test_requests_of_several_web_workers_share_one_transaction(service: IngestService, engine: sa.Engine) -> None:
    workers = [connect(service.path) for _ in range(3)]
    service.round(timeout=5)  # accepts all three
    send_frame(workers[0], encode_arrivals([arrival("a1"), arrival("a2")]))
    send_frame(workers[1], encode_arrivals([arrival("b1")]))
    send_frame(workers[2], encode_arrivals([arrival("a1")]))  # the same delivery as worker 0's first

    assert service.round(timeout=5) == 4
    answers = [decode_receipts(read_frame(worker)) for worker in workers]

    assert service.rounds == 1
    assert service.deliveries == 4
    first, second, third = answers
    assert [r.duplicate for r in first] == [False, False]
    assert second == [Receipt(second[0].delivery_id, False)]
    assert third == [Receipt(first[0].delivery_id, duplicate=True)]
    assert stored(engine) == (["a1", "a2", "b1"], 3)


def test_storage_refusal_is_answered_to_every_worker_of_the_round(service: IngestService, engine: sa.Engine) -> None:
    refuse_delivery_jobs(engine)
    workers = [connect(service.path) for _ in range(2)]
    service.round(timeout=5)
    for index, worker in enumerate(workers):
        send_frame(worker, encode_arrivals([arrival(f"r{index}")]))
    service.round(timeout=5)
    for worker in workers:
        with pytest.raises(StorageUnavailable, match="refuse"):
            decode_receipts(read_frame(worker))
    assert stored(engine) == ([], 0)


def test_a_garbled_request_drops_only_that_connection(service: IngestService, engine: sa.Engine) -> None:
    """Neither fails the transaction the good request shares with them."""
    garbled, mistyped, good = connect(service.path), connect(service.path), connect(service.path)
    service.round(timeout=5)
    send_frame(garbled, marshal.dumps([("only", "three", "fields")]))
    send_frame(mistyped, marshal.dumps([("sandbox", "s1", "t", "k", False, {"a": "b"}, "text, not bytes")]))
    send_frame(good, encode_arrivals([arrival("g1")]))
    service.round(timeout=5)
    assert decode_receipts(read_frame(good))[0].duplicate is False
    assert garbled.recv(1) == b""
    assert mistyped.recv(1) == b""
    assert stored(engine) == (["g1"], 1)


def test_the_socket_is_the_owners_alone_and_a_stale_one_is_replaced(engine: sa.Engine, socket_path: Path) -> None:
    socket_path.write_text("left behind by a killed service")
    service = IngestService(engine, socket_path)
    try:
        assert stat.S_ISSOCK(socket_path.stat().st_mode)
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    finally:
        service.close()
    assert not socket_path.exists()


def test_a_socket_path_too_long_for_unix_sockets_is_refused_by_name(engine: sa.Engine, tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "ingest.sock"
    with pytest.raises(ValueError, match="too long"):
        IngestService(engine, deep)


def test_web_workers_write_through_the_running_service(engine: sa.Engine, socket_path: Path) -> None:
    service = run(engine, socket_path)
    writers = [ServiceWriter(socket_path, DeliveryWriter(engine)) for _ in range(4)]
    try:
        receipts: list[list[Receipt]] = [[] for _ in writers]

        def send(index: int) -> None:
            for n in range(25):
                receipts[index].extend(writers[index].write([arrival(f"w{index}-{n}"), arrival("shared")]))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(writers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for writer in writers:
            writer.close()
        service.stop()
    keys, job_count = stored(engine)
    assert len(keys) == 101
    assert job_count == 101
    shared = [r for batch in receipts for r in batch[1::2]]
    assert sum(not r.duplicate for r in shared) == 1
    assert len({r.delivery_id for r in shared}) == 1
    assert service.deliveries == 200  # all went through the service, none written by a web worker


def test_without_the_service_a_web_worker_stores_deliveries_itself(engine: sa.Engine, socket_path: Path) -> None:
    writer = ServiceWriter(socket_path, DeliveryWriter(engine), retry_every=0.0)
    try:
        assert writer.write([arrival("alone")])[0].duplicate is False
        service = run(engine, socket_path)  # started later: the next write goes through it
        try:
            assert writer.write([arrival("later")])[0].duplicate is False
        finally:
            service.stop()
    finally:
        writer.close()
    assert stored(engine) == (["alone", "later"], 2)
    assert service.deliveries == 1


def test_a_service_that_dies_after_its_commit_leaves_the_delivery_stored_once(
    engine: sa.Engine, socket_path: Path
) -> None:
    """It committed but never answered: the web worker's own write finds the row, stored once."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(1)
    committed: list[Receipt] = []

    def commit_then_die() -> None:
        peer, _ = listener.accept()
        committed.extend(DeliveryWriter(engine).write(decode_arrivals(read_frame(peer))))
        peer.close()
        listener.close()

    dying = threading.Thread(target=commit_then_die)
    dying.start()
    writer = ServiceWriter(socket_path, DeliveryWriter(engine))
    try:
        receipt = writer.write([arrival("once")])[0]
    finally:
        writer.close()
        dying.join(10)
    assert receipt == Receipt(committed[0].delivery_id, duplicate=True)
    assert stored(engine) == (["once"], 1)


def test_a_refusal_relayed_by_the_service_is_not_retried_by_the_web_worker(
    engine: sa.Engine, socket_path: Path
) -> None:
    refuse_delivery_jobs(engine)
    service = run(engine, socket_path)
    writer = ServiceWriter(socket_path, DeliveryWriter(engine))
    try:
        with pytest.raises(StorageUnavailable):
            writer.write([arrival("refused")])
    finally:
        writer.close()
        service.stop()
    assert service.deliveries == 1
    assert stored(engine) == ([], 0)


def test_the_hub_answers_through_the_service(world: World) -> None:
    path = world.hub.hub.config.hub.ingest_socket
    service = run(world.hub.hub.engine, path)
    try:
        world.order("1001", 5000)
        raw, headers = world.platform.request_refund("1001", 1000, send=False)
        first, again = world.post(raw, headers), world.post(raw, headers)
    finally:
        service.stop()
    assert first.status_code == 200
    assert first.json["result"] == "accepted"
    assert again.status_code == 200
    assert again.json == {"delivery_id": first.json["delivery_id"], "result": "duplicate"}
    assert service.deliveries == 2


class CountingDispatcher:
    def __init__(self) -> None:
        self.wakes = 0
        self.woke = threading.Event()

    def wake(self) -> None:
        self.wakes += 1
        self.woke.set()


def test_the_service_wakes_a_worker_for_new_deliveries_in_place_of_the_web_processes(
    engine: sa.Engine, socket_path: Path
) -> None:
    dispatcher = CountingDispatcher()
    service = run(engine, socket_path, dispatcher)
    writer = ServiceWriter(socket_path, DeliveryWriter(engine))
    try:
        receipts = writer.write([arrival("n1"), arrival("n2")])
        assert all(receipt.woken for receipt in receipts)  # the web process need not wake anyone
        assert dispatcher.woke.wait(5)
        dispatcher.woke.clear()
        writer.write([arrival("n1"), arrival("ping", ack_only=True)])  # a duplicate and a ping: no work
        assert not dispatcher.woke.wait(0.5)
    finally:
        writer.close()
        service.stop()
    assert dispatcher.wakes == 1


def test_a_round_that_fails_unexpectedly_does_not_end_the_service(
    engine: sa.Engine, socket_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = IngestService(engine, socket_path)
    real_gather, failures = service._gather, []

    def gather_failing_once(waiting: list, timeout: float | None) -> None:  # type: ignore[type-arg]
        if not failures:
            failures.append("once")
            raise RuntimeError("a bug in a round")
        real_gather(waiting, timeout)

    monkeypatch.setattr(service, "_gather", gather_failing_once)
    threading.Thread(target=service.serve, daemon=True).start()
    writer = ServiceWriter(socket_path, DeliveryWriter(engine))
    try:
        assert writer.write([arrival("after-the-bug")])[0].duplicate is False
    finally:
        writer.close()
        service.stop()
    assert failures == ["once"]
    assert service.deliveries == 1
