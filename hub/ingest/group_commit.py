"""The web process's side of ingest: group commit and coalesced wake-ups.

With SQLite and ``synchronous=FULL`` every commit waits for the disk; the fsync, not the SQL,
is the cost of a delivery. Concurrent requests in one process therefore share a commit: one
of them writes everything that arrived meanwhile in ONE transaction and each request answers
only after that commit (durability is unchanged: no 2xx before fsync).
Waking a worker is coalesced too (``hub.work.wakeups``); deliveries stored by the ingest
service are woken for by the service, once for all web processes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from hub.contracts import Inbound, Verified
from hub.ingest import writer as ingest
from hub.runtime.bootstrap import Dispatcher
from hub.work.wakeups import CoalescingWaker

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    arrival: ingest.Arrival
    done: threading.Event = field(default_factory=threading.Event)
    receipt: ingest.Receipt | None = None
    error: BaseException | None = None


class Intake:
    """Stores deliveries for the webhook endpoint; one per web process.

    Leader/follower group commit: a request that finds no commit under way commits itself, plus
    whatever arrives meanwhile, in its own thread (no hand-off cost when traffic is light); requests
    arriving during a commit queue up and are written together by that leader in the next one.
    """

    def __init__(self, writer: ingest.Writer, dispatcher: Dispatcher, max_batch: int = 64) -> None:
        self.writer = writer
        self.max_batch = max_batch
        self.waker = CoalescingWaker(dispatcher)
        self._lock = threading.Lock()
        self._waiting: list[_Pending] = []
        self._leading = False

    def receive(self, source: str, verified: Verified, inbound: Inbound) -> ingest.Receipt:
        item = _Pending(ingest.Arrival(source, verified, inbound))
        with self._lock:
            self._waiting.append(item)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()
        item.done.wait()
        if item.error is not None:
            raise item.error
        assert item.receipt is not None
        if not item.receipt.duplicate and not verified.ack_only and not item.receipt.woken:
            self.waker.poke()
        return item.receipt

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                if not batch:
                    self._leading = False
                    return
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            for item, receipt in zip(batch, self.writer.write([item.arrival for item in batch]), strict=True):
                item.receipt = receipt
        except Exception as exc:  # nothing of this batch was stored: every request answers 503
            log.exception("group commit of %d deliveries failed", len(batch))
            for item in batch:
                item.error, item.receipt = exc, None
        for item in batch:
            item.done.set()
