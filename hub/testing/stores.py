"""An in-memory ``StoreDirectory``: a real implementation of the port, for tests and plugin authors."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hub.contracts import StoreContext


class MemoryStores:
    """Stores of one connector kept in a dict; ``save`` and ``disable`` behave like the hub's."""

    def __init__(self, connector: str, stores: list[StoreContext] | None = None) -> None:
        self.connector = connector
        self._stores: dict[str, StoreContext] = {s.id: s for s in stores or []}
        self._state: dict[tuple[str, str], tuple[str, float | None]] = {}  # value, expiry (epoch seconds)

    def add(
        self,
        store_id: str,
        *,
        settings: Mapping[str, Any] | None = None,
        credentials: Mapping[str, str] | None = None,
        routes: Mapping[str, str] | None = None,
    ) -> StoreContext:
        store = StoreContext(
            id=store_id,
            connector=self.connector,
            settings=dict(settings or {}),
            credentials=dict(credentials or {}),
            routes=dict(routes or {}),
        )
        self._stores[store_id] = store
        return store

    def get(self, store_id: str) -> StoreContext | None:
        store = self._stores.get(store_id)
        return store if store and store.enabled else None

    def all(self) -> list[StoreContext]:
        return [s for s in self._stores.values() if s.enabled]

    def save(self, store_id: str, *, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> StoreContext:
        old = self._stores.get(store_id)
        routes = old.routes if old else {}
        store = StoreContext(
            id=store_id,
            connector=self.connector,
            settings=dict(settings),
            credentials=dict(credentials),
            routes=dict(routes),
            enabled=True,
        )
        self._stores[store_id] = store
        return store

    def disable(self, store_id: str) -> None:
        if store_id in self._stores:
            self._stores[store_id] = replace(self._stores[store_id], enabled=False)

    def get_state(self, store_id: str, key: str) -> str | None:
        value, expires = self._state.get((store_id, key), (None, None))
        if expires is not None and expires <= time.time():
            return None
        return value

    def set_state(self, store_id: str, key: str, value: str | None, *, ttl: float | None = None) -> None:
        if value is None:
            self._state.pop((store_id, key), None)
        else:
            self._state[(store_id, key)] = (value, time.time() + ttl if ttl is not None else None)

    def state_count(self) -> int:
        """Live state entries (tests of bounded growth)."""
        now = time.time()
        return sum(1 for _, expires in self._state.values() if expires is None or expires > now)
