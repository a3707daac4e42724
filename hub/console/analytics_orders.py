"""How many orders each store took in a period, asked of its platform (``Connector.order_count``)
for the refund rate's denominator. Answers are kept a few minutes, so opening the page again, or
its CSV, does not ask the platforms again; a platform that fails or cannot say leaves that store's
rate empty with a note, and never fails the page."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
KEEP_SECONDS = 300.0
KEEP_FAILED_SECONDS = 30.0  # a platform that failed is asked again soon, but not on every view
LARGEST = 2_000  # answers kept at most (oldest dropped first)
Key = tuple[str, str, datetime, datetime]


@dataclass(frozen=True)
class Counted:
    orders: int | None
    note: str | None  # why there is no count


@dataclass
class OrderCounts:
    """The answers of one hub's platforms, kept ``KEEP_SECONDS`` (``clock`` for tests)."""

    clock: Callable[[], float] = time.monotonic
    _kept: dict[Key, tuple[float, Counted]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(
        self, hub: Hub, stores: Iterable[tuple[str, str]], since: datetime, until: datetime
    ) -> dict[tuple[str, str], Counted]:
        wanted = sorted(set(stores))
        now = self.clock()
        found: dict[tuple[str, str], Counted] = {}
        with self._lock:
            for store in wanted:
                kept = self._kept.get((*store, since, until))
                if kept is not None and kept[0] > now:
                    found[store] = kept[1]
        missing = [store for store in wanted if store not in found]
        if missing:
            with ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
                asked = dict(zip(missing, pool.map(lambda s: _ask(hub, s, since, until), missing), strict=True))
            with self._lock:
                for store, answer in asked.items():
                    keep = KEEP_SECONDS if answer.orders is not None else KEEP_FAILED_SECONDS
                    self._kept[(*store, since, until)] = (now + keep, answer)
                while len(self._kept) > LARGEST:
                    self._kept.pop(next(iter(self._kept)))
            found.update(asked)
        return found


def _ask(hub: Hub, store: tuple[str, str], since: datetime, until: datetime) -> Counted:
    connector_name, store_id = store
    connector = hub.connectors.get(connector_name)
    directory = hub.stores.get(connector_name)
    context = directory.get(store_id) if directory is not None else None
    if connector is None or context is None:
        return Counted(None, f"{store_id}: the store is not enabled, so its platform was not asked for its orders.")
    try:
        orders = connector.order_count(context, since, until)
    except Exception as exc:  # noqa: BLE001 - a platform down, slow or refusing: the rate is left empty, the page stands
        log.warning("order count of %s/%s failed: %s", connector_name, store_id, exc)
        return Counted(None, f"{store_id}: {connector_name} did not answer for its order count ({type(exc).__name__}).")
    if orders is None:
        return Counted(None, f"{store_id}: {connector_name} does not report order counts.")
    return Counted(int(orders), None)
