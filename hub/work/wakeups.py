"""Waking workers, coalesced: one queue message wakes a worker that drains every runnable job,
so a burst of deliveries needs one wake-up, not one each."""

from __future__ import annotations

import threading
import time

from hub.runtime.bootstrap import Dispatcher


class CoalescingWaker:
    """``poke`` from any thread; the dispatcher is woken at most once per interval."""

    def __init__(self, dispatcher: Dispatcher, interval: float = 0.05) -> None:
        self.dispatcher = dispatcher
        self.interval = interval
        self._poked = threading.Event()
        threading.Thread(target=self._run, name="waker", daemon=True).start()

    def poke(self) -> None:
        self._poked.set()

    def _run(self) -> None:
        while True:
            self._poked.wait()
            self._poked.clear()
            self.dispatcher.wake()
            time.sleep(self.interval)  # deliveries stored meanwhile share the next wake-up
