"""Accounts, per-store grants, API tokens and login throttles, as stored; and the store scope
every query a person or a token triggers is filtered by (tenancy lives in the queries, not in
templates)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, false, or_, select, true, update

from hub.db.tables import api_tokens, grants, throttles, users
from hub.db.upsert import insert_ignore
from hub.ledger.records import as_utc

EVERY = "*"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreScope:
    """The stores a person or token may see and act on: every store, or these (connector, store)
    pairs (``"*"`` as store: every store of that connector)."""

    everything: bool = False
    stores: frozenset[tuple[str, str]] = frozenset()

    def allows(self, connector: str, store_id: str) -> bool:
        return self.everything or (connector, store_id) in self.stores or (connector, EVERY) in self.stores

    def pairs(self) -> list[tuple[str, str]] | None:
        """The granted (connector, store) pairs, or None when the scope covers whole connectors."""
        if self.everything or any(store == EVERY for _, store in self.stores):
            return None
        return sorted(self.stores)

    def clause(self, connector: Any, store_id: Any) -> ColumnElement[bool]:
        """A WHERE clause over a table's connector and store columns: one ``store_id IN (…)`` per
        connector, which an index on the store column can serve (an OR of pairs cannot)."""
        if self.everything:
            return true()
        if not self.stores:
            return false()
        whole = sorted({c for c, s in self.stores if s == EVERY})
        by_connector: dict[str, list[str]] = {}
        for c, s in sorted(self.stores):
            if s != EVERY and c not in whole:
                by_connector.setdefault(c, []).append(s)
        parts = [and_(connector == c, store_id.in_(ids)) for c, ids in by_connector.items()]
        if whole:
            parts.append(connector.in_(whole))
        return parts[0] if len(parts) == 1 else or_(*parts)


ALL_STORES = StoreScope(everything=True)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    role: str
    password_hash: str
    totp_secret: str | None
    session_epoch: int
    active: bool
    created_at: datetime
    last_login_at: datetime | None


def _user(row: Any) -> User:
    return User(
        row.id,
        row.email,
        row.name,
        row.role,
        row.password_hash,
        row.totp_secret,
        int(row.session_epoch),
        bool(row.active),
        as_utc(row.created_at) or row.created_at,
        as_utc(row.last_login_at),
    )


def add_user(conn: Connection, *, email: str, name: str, role: str, password_hash: str) -> User:
    user_id = f"us_{uuid.uuid4().hex[:24]}"
    inserted = insert_ignore(
        conn,
        users,
        {
            "id": user_id,
            "email": email,
            "name": name,
            "role": role,
            "password_hash": password_hash,
            "session_epoch": 0,
            "active": True,
            "created_at": _now(),
        },
        conflict=("email",),
    )
    if not inserted:
        raise ValueError(f"a user with e-mail {email} exists already")
    found = user_by_email(conn, email)
    assert found is not None
    return found


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return _user(row) if row is not None else None


def user_by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row is not None else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.email))]


def update_user(conn: Connection, user_id: str, **values: Any) -> None:
    """Set role, name, password hash, TOTP secret, active; ``end_sessions`` bumps the epoch."""
    if values.pop("end_sessions", False):
        values["session_epoch"] = users.c.session_epoch + 1
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def grant(conn: Connection, user_id: str, connector: str, store_id: str) -> None:
    values = {"user_id": user_id, "connector": connector, "store_id": store_id}
    insert_ignore(conn, grants, values, ("user_id", "connector", "store_id"))


def revoke(conn: Connection, user_id: str, connector: str, store_id: str) -> int:
    where = (grants.c.user_id == user_id, grants.c.connector == connector, grants.c.store_id == store_id)
    return int(conn.execute(delete(grants).where(*where)).rowcount)


def scope_of(conn: Connection, user_id: str) -> StoreScope:
    rows = conn.execute(select(grants.c.connector, grants.c.store_id).where(grants.c.user_id == user_id)).all()
    if any(r.connector == EVERY for r in rows):
        return ALL_STORES
    return StoreScope(stores=frozenset((r.connector, r.store_id) for r in rows))


@dataclass(frozen=True)
class Token:
    id: str
    user_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def add_token(conn: Connection, user_id: str, name: str, token_hash: str, scopes: Iterable[str]) -> str:
    token_id = f"tk_{uuid.uuid4().hex[:24]}"
    conn.execute(
        api_tokens.insert().values(
            id=token_id,
            user_id=user_id,
            name=name,
            token_hash=token_hash,
            scopes=sorted(set(scopes)),
            created_at=_now(),
        )
    )
    return token_id


def token_by_hash(conn: Connection, token_hash: str) -> Token | None:
    row = conn.execute(
        select(api_tokens).where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return Token(
        row.id,
        row.user_id,
        row.name,
        frozenset(row.scopes),
        as_utc(row.created_at) or row.created_at,
        as_utc(row.last_used_at),
        None,
    )


def touch_token(conn: Connection, token_id: str) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=_now()))


def revoke_token(conn: Connection, token_id: str) -> bool:
    live = (api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
    return conn.execute(update(api_tokens).where(*live).values(revoked_at=_now())).rowcount == 1


def count_attempt(conn: Connection, key: str, window: timedelta) -> int:
    """One more failed attempt under ``key`` within the current window; returns the count."""
    at = _now()
    row = conn.execute(select(throttles).where(throttles.c.key == key)).first()
    if row is None or (as_utc(row.window_until) or at) <= at:
        conn.execute(delete(throttles).where(throttles.c.key == key))
        conn.execute(throttles.insert().values(key=key, count=1, window_until=at + window))
        return 1
    conn.execute(update(throttles).where(throttles.c.key == key).values(count=throttles.c.count + 1))
    return int(row._mapping["count"]) + 1


def attempts(conn: Connection, key: str) -> int:
    row = conn.execute(select(throttles).where(throttles.c.key == key)).first()
    if row is None or (as_utc(row.window_until) or _now()) <= _now():
        return 0
    return int(row._mapping["count"])


def clear_attempts(conn: Connection, key: str) -> None:
    conn.execute(delete(throttles).where(throttles.c.key == key))
