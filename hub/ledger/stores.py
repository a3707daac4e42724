"""The database-backed ``StoreDirectory``: stores from the config file and from install flows.

Credentials are sealed with the ``SecretBox`` before they touch the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

from hub.contracts import StoreContext
from hub.db.engine import reading
from hub.db.tables import store_state, stores
from hub.db.upsert import insert_ignore, upsert
from hub.runtime.config import Config
from hub.runtime.crypto import SecretBox


def _now() -> datetime:
    return datetime.now(UTC)


class DbStores:
    """Stores of one connector; ``get`` is what verification and the worker use."""

    def __init__(self, engine: Engine, box: SecretBox, connector: str) -> None:
        self.engine = engine
        self.box = box
        self.connector = connector

    def _context(self, row: Any) -> StoreContext:
        return StoreContext(
            id=row.store_id,
            connector=row.connector,
            settings=dict(row.settings),
            credentials=self.box.open(row.credentials),
            routes=dict(row.routes),
            enabled=row.enabled,
        )

    def get(self, store_id: str) -> StoreContext | None:
        with reading(self.engine) as conn:
            row = conn.execute(
                select(stores).where(stores.c.connector == self.connector, stores.c.store_id == store_id)
            ).first()
        return self._context(row) if row is not None and row.enabled else None

    def policy_name(self, store_id: str) -> str | None:
        with reading(self.engine) as conn:
            return conn.execute(
                select(stores.c.policy).where(stores.c.connector == self.connector, stores.c.store_id == store_id)
            ).scalar()

    def all(self) -> list[StoreContext]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(stores).where(stores.c.connector == self.connector, stores.c.enabled)).all()
        return [self._context(r) for r in rows]

    def save(
        self,
        store_id: str,
        *,
        settings: Mapping[str, Any],
        credentials: Mapping[str, str],
        routes: Mapping[str, str] | None = None,
        policy: str | None = None,
        source: str = "install",
    ) -> StoreContext:
        now = _now()
        sealed = self.box.seal(credentials)
        with self.engine.begin() as conn:
            values = {"settings": dict(settings), "credentials": sealed, "enabled": True, "updated_at": now}
            if routes is not None:
                values["routes"] = dict(routes)
            if policy is not None or source == "config":
                values["policy"] = policy
            fresh = {
                "connector": self.connector,
                "store_id": store_id,
                "source": source,
                "created_at": now,
                **values,
                "routes": dict(routes or {}),
            }
            # insert-or-nothing, then update: processes starting together (every web worker saves
            # the configured stores) never collide on the key, as a read-then-insert would
            if not insert_ignore(conn, stores, fresh, conflict=("connector", "store_id")):
                conn.execute(
                    update(stores)
                    .where(stores.c.connector == self.connector, stores.c.store_id == store_id)
                    .values(**values)
                )
        stored = self.get(store_id)
        assert stored is not None
        return stored

    def disable(self, store_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(stores)
                .where(stores.c.connector == self.connector, stores.c.store_id == store_id)
                .values(enabled=False, updated_at=_now())
            )

    def get_state(self, store_id: str, key: str) -> str | None:
        with reading(self.engine) as conn:
            return conn.execute(
                select(store_state.c.value).where(
                    store_state.c.connector == self.connector,
                    store_state.c.store_id == store_id,
                    store_state.c.key == key,
                    or_(store_state.c.expires_at.is_(None), store_state.c.expires_at > _now()),
                )
            ).scalar()

    def set_state(self, store_id: str, key: str, value: str | None, *, ttl: float | None = None) -> None:
        """Save (or, with None, forget) a value: an upsert, safe with two janitors at once.
        ``ttl``: seconds until it expires (and the janitor prunes it)."""
        with self.engine.begin() as conn:
            if value is None:
                conn.execute(
                    store_state.delete().where(
                        store_state.c.connector == self.connector,
                        store_state.c.store_id == store_id,
                        store_state.c.key == key,
                    )
                )
                return
            upsert(
                conn,
                store_state,
                {
                    "connector": self.connector,
                    "store_id": store_id,
                    "key": key,
                    "value": value,
                    "expires_at": _now() + timedelta(seconds=ttl) if ttl is not None else None,
                },
                conflict=("connector", "store_id", "key"),
            )


def prune_expired_state(conn: Connection, at: datetime) -> int:
    """Forget state past its expiry (install nonces nobody came back for)."""
    return int(conn.execute(store_state.delete().where(store_state.c.expires_at < at)).rowcount)


def sync_config_stores(config: Config, engine: Engine, box: SecretBox) -> None:
    """Upsert the stores the config file declares (installed stores are left alone)."""
    for store_id, store in config.stores.items():
        directory = DbStores(engine, box, store.connector)
        directory.save(
            store_id,
            settings=store.settings,
            credentials=store.credentials,
            routes=store.routes,
            policy=store.policy,
            source="config",
        )
        if not store.enabled:
            directory.disable(store_id)


def rotate_credentials(engine: Engine, box: SecretBox) -> int:
    """Re-encrypt every stored credential under the newest key; returns how many rows."""
    with engine.begin() as conn:
        rows = conn.execute(select(stores.c.connector, stores.c.store_id, stores.c.credentials)).all()
        for row in rows:
            conn.execute(
                update(stores)
                .where(stores.c.connector == row.connector, stores.c.store_id == row.store_id)
                .values(credentials=box.rotate(row.credentials))
            )
    return len(rows)
