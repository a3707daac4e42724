"""Deliver signed webhooks from a simulator to the hub, in the background, like a platform does."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

log = logging.getLogger(__name__)


@dataclass
class SentWebhook:
    url: str
    body: bytes
    headers: Mapping[str, str]
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    done: threading.Event = field(default_factory=threading.Event)


class WebhookSender:
    """A worker thread posting queued webhooks; retries on failure up to ``attempts`` times.

    ``history`` keeps every webhook sent, so tests can see what the simulator told the hub.
    """

    def __init__(self, attempts: int = 3, retry_delay: float = 0.2, timeout: float = 5.0) -> None:
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.history: list[SentWebhook] = []
        self._queue: queue.Queue[tuple[float, SentWebhook] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="webhook-sender", daemon=True)
        self._thread.start()

    def send(self, url: str, body: bytes, headers: Mapping[str, str], delay: float = 0.0) -> SentWebhook:
        item = SentWebhook(url=url, body=body, headers=dict(headers))
        self.history.append(item)
        self._queue.put((time.monotonic() + delay, item))
        return item

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        session = requests.Session()
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            due, item = entry
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._deliver(session, item)

    def _deliver(self, session: requests.Session, item: SentWebhook) -> None:
        for attempt in range(1, self.attempts + 1):
            item.attempts = attempt
            try:
                response = session.post(item.url, data=item.body, headers=dict(item.headers), timeout=self.timeout)
                item.status = response.status_code
                if response.status_code < 500:
                    break
            except requests.RequestException as exc:
                item.error = str(exc)
            time.sleep(self.retry_delay * attempt)
        item.done.set()
