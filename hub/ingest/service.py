"""Group commit across web processes: one process stores the deliveries of every web worker.

A gunicorn sync worker serves one request at a time, so a web process never has two deliveries
to commit together; each committing its own, the workers queue for SQLite's single writer and
pay one fsync per delivery (``synchronous=FULL``). The ingest service is one thread in its own
process (``refund-hub ingest-service``, started by ``serve``): each round it reads the deliveries
that every connected web worker has sent over a Unix socket, stores them all in ONE transaction
(``DeliveryWriter``) and only then answers each worker with its receipts, so no 2xx leaves before
the delivery is durable. While it commits, the next requests queue in their sockets and form the
next round. PostgreSQL, which groups concurrent commits itself, gains little from it (bench/ingest.py).

The service speeds ingest up but never stands between a platform and a stored delivery: a web
worker that cannot reach it writes the delivery itself (``ServiceWriter``), and if the service
dies after committing but before answering, that write finds the row as a duplicate: stored once.

Wire format: frames of a 4-byte big-endian length and a ``marshal`` payload of plain tuples
(marshal builds only built-in values; the socket is the owner's alone, mode 0600).
"""

from __future__ import annotations

import logging
import marshal
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

from sqlalchemy import Engine

from hub.contracts import Headers, Inbound, Verified
from hub.errors import StorageUnavailable
from hub.ingest.writer import KEPT_HEADERS_MAX, Arrival, DeliveryWriter, Receipt
from hub.runtime.bootstrap import Dispatcher
from hub.work.wakeups import CoalescingWaker

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024  # far above a batch of deliveries at the body limit: a corrupt length
_FIRST_READ = 64 * 1024
OK, UNAVAILABLE = "ok", "unavailable"


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def read_frame(sock: socket.socket) -> bytes:
    """One frame. The first read takes up to 64 KB: every reply and most requests in one call.
    Each side sends one frame and waits for the answer, so a read never reaches a next frame."""
    data = sock.recv(_FIRST_READ)
    if len(data) < _LENGTH.size:
        data += _read_exactly(sock, _LENGTH.size - len(data))
    (length,) = _LENGTH.unpack_from(data)
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes")
    end = _LENGTH.size + length
    if len(data) > end:
        raise ValueError("a second frame before the answer to the first")
    if len(data) < end:
        data += _read_exactly(sock, end - len(data))
    return data[_LENGTH.size :]


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            raise EOFError("the peer closed the connection")
        got += count
    return bytes(buffer)


def encode_arrivals(arrivals: Sequence[Arrival]) -> bytes:
    rows = []
    for arrival in arrivals:
        verified, inbound = arrival.verified, arrival.inbound
        headers = dict(islice(inbound.headers.items(), KEPT_HEADERS_MAX))
        row = (arrival.source, verified.store_id, verified.topic, verified.dedupe_key, verified.ack_only)
        rows.append((*row, headers, inbound.body))
    return marshal.dumps(rows)


def decode_arrivals(payload: bytes) -> list[Arrival]:
    """The arrivals of one request; ``ValueError`` for anything that is not a list of them (one
    worker's bad request must not fail the transaction it would share with the others)."""
    try:
        rows = marshal.loads(payload)
        return [_arrival(*row) for row in rows]
    except (EOFError, TypeError, ValueError) as exc:
        raise ValueError(f"not a batch of deliveries: {exc}") from exc


def _arrival(
    source: str, store_id: str, topic: str, dedupe_key: str, ack_only: bool, headers: dict[str, str], body: bytes
) -> Arrival:
    """One decoded row, its types checked: the annotations are what a web worker sends, not a guarantee."""
    texts = (source, store_id, topic, dedupe_key)
    if not all(isinstance(text, str) for text in texts) or not isinstance(body, bytes):
        raise TypeError("source, store, topic and dedupe key must be text, the body bytes")
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise TypeError("headers must map text to text")
    return Arrival(source, Verified(store_id, topic, dedupe_key, bool(ack_only)), Inbound(Headers(headers), body))


def decode_receipts(payload: bytes) -> list[Receipt]:
    status, value, woken = marshal.loads(payload)
    if status != OK:
        raise StorageUnavailable(str(value))
    return [Receipt(delivery_id, bool(duplicate), woken=bool(woken)) for delivery_id, duplicate in value]


class IngestService:
    """The service's loop: accept web workers, read a round of requests, commit, answer."""

    def __init__(
        self, engine: Engine, path: Path, dispatcher: Dispatcher | None = None, read_timeout: float = 5.0
    ) -> None:
        self.writer = DeliveryWriter(engine)
        # one coalesced wake-up for the deliveries of every web process (with none, each web process wakes)
        self.waker = CoalescingWaker(dispatcher) if dispatcher is not None else None
        self.path = path
        self.read_timeout = read_timeout  # a worker that sent half a frame cannot stall the others for longer
        self.rounds = 0  # transactions committed (or refused): the group-commit ratio is deliveries / rounds
        self.deliveries = 0
        self._listener = _listen(path)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._stop = threading.Event()

    def serve(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.round(timeout=0.5)
                except Exception:  # a bug must not end the service: the web workers would write alone
                    log.exception("ingest service: a round failed; going on")
                    self._stop.wait(0.1)
        finally:
            self.close()

    def stop(self) -> None:
        self._stop.set()

    def round(self, timeout: float | None) -> int:
        """Store every request waiting now in one transaction and answer each; the deliveries stored."""
        waiting: list[tuple[socket.socket, list[Arrival]]] = []
        self._gather(waiting, timeout)
        if not waiting:
            return 0
        arrivals = [arrival for _, batch in waiting for arrival in batch]
        answers = self._commit(arrivals)
        self.rounds += 1
        self.deliveries += len(arrivals)
        woken = self.waker is not None
        start = 0
        for peer, batch in waiting:
            if isinstance(answers, bytes):
                answer = answers
            else:
                answer = marshal.dumps((OK, answers[start : start + len(batch)], woken))
            start += len(batch)
            try:
                send_frame(peer, answer)
            except OSError:  # it gave up waiting; its fallback write will find these rows as duplicates
                self._drop(peer)
        return len(arrivals)

    def _gather(self, waiting: list[tuple[socket.socket, list[Arrival]]], timeout: float | None) -> None:
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self._listener:
                self._accept()
                continue
            peer: socket.socket = key.fileobj  # type: ignore[assignment]
            try:
                waiting.append((peer, decode_arrivals(read_frame(peer))))
            except (OSError, EOFError, ValueError) as exc:
                if not isinstance(exc, EOFError):
                    log.warning("ingest service: dropped a web worker's connection: %s", exc)
                self._drop(peer)

    def _commit(self, arrivals: list[Arrival]) -> list[tuple[str, bool]] | bytes:
        """The receipts as sent back, or the refusal every web worker of the round receives."""
        try:
            receipts = self.writer.write(arrivals)
        except Exception as exc:  # the web workers answer 503 and the platforms retry; the service goes on
            log.exception("ingest service: %d deliveries not stored", len(arrivals))
            return marshal.dumps((UNAVAILABLE, f"{type(exc).__name__}: {exc}", False))
        if self.waker is not None and any(
            not receipt.duplicate and not arrival.verified.ack_only
            for arrival, receipt in zip(arrivals, receipts, strict=True)
        ):
            self.waker.poke()
        return [(receipt.delivery_id, receipt.duplicate) for receipt in receipts]

    def _accept(self) -> None:
        while True:  # every web worker that is queued; the listener does not block
            try:
                peer, _ = self._listener.accept()
            except OSError:
                return
            peer.settimeout(self.read_timeout)
            self._selector.register(peer, selectors.EVENT_READ)

    def _drop(self, peer: socket.socket) -> None:
        self._selector.unregister(peer)
        peer.close()

    def close(self) -> None:
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.writer.close()
        log.info("ingest service stopped: %d deliveries in %d transactions", self.deliveries, self.rounds)


def _listen(path: Path) -> socket.socket:
    """The service's socket, readable and writable by its owner only; a stale one is replaced."""
    if len(os.fsencode(path)) >= 104:  # sun_path: 108 bytes on Linux, 104 on the BSDs
        raise ValueError(f"ingest socket path {path} is too long for a Unix socket; use a shorter instance_path")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(previous)
    listener.listen(128)
    listener.setblocking(False)
    return listener


class ServiceWriter:
    """A web process's writer: through the ingest service, or itself when the service is not there.

    Same interface as ``DeliveryWriter``. An unreachable service is tried again at most once per
    ``retry_every`` seconds; meanwhile the deliveries are written here, as without the service.
    ``timeout`` stays under gunicorn's 30 s worker timeout, so a stuck service leaves time to write here.
    """

    def __init__(self, path: Path, fallback: DeliveryWriter, timeout: float = 20.0, retry_every: float = 1.0) -> None:
        self.path = path
        self.fallback = fallback
        self.timeout = timeout
        self.retry_every = retry_every
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._next_try = 0.0

    def write(self, arrivals: Sequence[Arrival]) -> list[Receipt]:
        with self._lock:
            sock = self._connected()
            if sock is not None:
                try:
                    send_frame(sock, encode_arrivals(arrivals))
                    return decode_receipts(read_frame(sock))
                except (OSError, EOFError, ValueError) as exc:
                    log.warning("ingest service unreachable (%s); this web process writes itself", exc)
                    self._disconnect()
        return self.fallback.write(arrivals)

    def _connected(self) -> socket.socket | None:
        if self._sock is None and time.monotonic() >= self._next_try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.path))
            except OSError:
                sock.close()
                self._next_try = time.monotonic() + self.retry_every
            else:
                self._sock = sock
        return self._sock

    def _disconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._next_try = time.monotonic() + self.retry_every

    def close(self) -> None:
        with self._lock:
            self._disconnect()
        self.fallback.close()


def run(engine: Engine, path: Path, dispatcher: Dispatcher | None = None) -> IngestService:
    """Start the service in a thread of this process (tests, embedded use); ``stop()`` ends it."""
    service = IngestService(engine, path, dispatcher)
    threading.Thread(target=service.serve, name="ingest-service", daemon=True).start()
    return service
