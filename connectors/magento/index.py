"""Which store an Adobe I/O Event is for, found by key instead of by reading every store.

An event names its Commerce instance (``source`` = ``urn:uuid:<provider id>``) and the I/O
registration it was sent to (``recipient_client_id``). Reading every store to match them would
decrypt every store's credentials on each unauthenticated request, so the connector keeps an index
in its state (namespace ``_io_events_index``): ``provider:<id>`` and ``client:<id>`` -> the ids of
the stores whose settings name them. Only the stores the index names are read (and checked against
their settings, so a stale entry is harmless). The index is written when an activation saves a
store and rebuilt from all stores when an event finds nothing, at most once a minute across the
hub, so unknown senders cannot make every request read every store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from hub.contracts import StoreContext, StoreDirectory

NAMESPACE = "_io_events_index"
REBUILT = "rebuilt"
REBUILD_EVERY = 60.0  # seconds between two full rebuilds, whoever asks
SETTINGS = {"provider": "io_events_provider_id", "client": "io_events_client_id"}


def entries(store: StoreContext) -> Iterable[tuple[str, str]]:
    """The index keys naming ``store``."""
    for kind, setting in SETTINGS.items():
        value = store.settings.get(setting)
        if isinstance(value, str) and value:
            yield kind, f"{kind}:{value}"


def _ids(stores: StoreDirectory, key: str) -> list[str]:
    raw = stores.get_state(NAMESPACE, key)
    try:
        found = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [str(i) for i in found] if isinstance(found, list) else []


def note(stores: StoreDirectory, store: StoreContext) -> None:
    """Add ``store`` under its provider and registration ids."""
    for _, key in entries(store):
        ids = _ids(stores, key)
        if store.id not in ids:
            stores.set_state(NAMESPACE, key, json.dumps([*ids, store.id]))


def rebuild(stores: StoreDirectory) -> bool:
    """Index every store again, unless that was done less than ``REBUILD_EVERY`` seconds ago."""
    if stores.get_state(NAMESPACE, REBUILT):
        return False
    stores.set_state(NAMESPACE, REBUILT, "1", ttl=REBUILD_EVERY)
    keys: dict[str, list[str]] = {}
    for store in stores.all():
        for _, key in entries(store):
            keys.setdefault(key, []).append(store.id)
    for key, ids in keys.items():
        stores.set_state(NAMESPACE, key, json.dumps(sorted(ids)))
    return True


def stores_naming(stores: StoreDirectory, kind: str, value: str) -> list[StoreContext]:
    """The enabled stores whose settings name ``value`` as their provider or client id."""
    if not value:
        return []
    found = (stores.get(store_id) for store_id in _ids(stores, f"{kind}:{value}"))
    return [s for s in found if s is not None and s.settings.get(SETTINGS[kind]) == value]
