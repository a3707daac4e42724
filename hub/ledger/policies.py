"""Published policy versions and the working draft of each store, as stored.

The newest published version of a store is its live policy: the hub decides with it
(``published``, read by ``Hub.policy_for``), and with the policy the configuration names only while
the store has none published.
Versions are never changed once written; a new text is a new number. The draft carries two
snapshots of its own: the text running in shadow and the text a first person asked to publish,
so a later edit of the draft never changes what is being shadowed or checked.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from hub.db.tables_policies import policy_drafts, policy_versions
from hub.db.upsert import insert_ignore, upsert
from hub.ledger.records import as_utc
from hub.policy.errors import PolicyError

if TYPE_CHECKING:
    from hub.policy import Policy

FILE = "file"  # the version taken over from the configuration
CONSOLE = "console"


def _now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=128)
def policy_of_text(body: str) -> Policy:
    """The validated policy of a TOML text; ``PolicyError`` names the first problem (a TOML
    syntax error keeps tomllib's ``(at line N, column M)``). Cached: versions never change."""
    from hub.policy.loader import build_policy

    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("policy", f"not valid TOML: {exc}") from None
    return build_policy(data)


@dataclass(frozen=True)
class Version:
    number: int
    body: str
    label: str
    note: str
    source: str
    published_by: str
    checked_by: str | None
    published_at: datetime


def _version(row: Any) -> Version:
    return Version(
        int(row.number),
        row.body,
        row.label,
        row.note or "",
        row.source,
        row.published_by,
        row.checked_by,
        as_utc(row.published_at) or row.published_at,
    )


def _of_store(connector: str, store_id: str) -> tuple[Any, Any]:
    return policy_versions.c.connector == connector, policy_versions.c.store_id == store_id


def versions(conn: Connection, connector: str, store_id: str) -> list[Version]:
    """Newest first."""
    rows = conn.execute(
        select(policy_versions).where(*_of_store(connector, store_id)).order_by(policy_versions.c.number.desc())
    )
    return [_version(r) for r in rows]


def version(conn: Connection, connector: str, store_id: str, number: int) -> Version | None:
    row = conn.execute(
        select(policy_versions).where(*_of_store(connector, store_id), policy_versions.c.number == number)
    ).first()
    return _version(row) if row is not None else None


def live_version(conn: Connection, connector: str, store_id: str) -> Version | None:
    row = conn.execute(
        select(policy_versions)
        .where(*_of_store(connector, store_id))
        .order_by(policy_versions.c.number.desc())
        .limit(1)
    ).first()
    return _version(row) if row is not None else None


_BY_LABEL: dict[str, Policy] = {}  # label → policy; a label names its content (Policy.version)
_BY_LABEL_MAX = 256


def published(conn: Connection, connector: str, store_id: str) -> Policy | None:
    """The store's newest published version as a policy; None while it has none (the
    configuration's policy decides until then: ``Hub.policy_for``). Every decision asks, so the
    common case reads one short column: the text only when this process has not parsed it yet."""
    label = conn.execute(
        select(policy_versions.c.label)
        .where(*_of_store(connector, store_id))
        .order_by(policy_versions.c.number.desc())
        .limit(1)
    ).scalar()
    if label is None:
        return None
    found = _BY_LABEL.get(label)
    if found is None:
        body = conn.execute(
            select(policy_versions.c.body)
            .where(*_of_store(connector, store_id), policy_versions.c.label == label)
            .order_by(policy_versions.c.number.desc())
            .limit(1)
        ).scalar_one()
        if len(_BY_LABEL) >= _BY_LABEL_MAX:
            _BY_LABEL.clear()
        found = _BY_LABEL[label] = policy_of_text(body)
    return found


def seed(conn: Connection, connector: str, store_id: str, body: str, label: str) -> bool:
    """Version 1 from the configuration's policy, unless the store has a version 1 already."""
    values = {
        "connector": connector,
        "store_id": store_id,
        "number": 1,
        "body": body,
        "label": label,
        "note": "the policy of the configuration file, before the first publish from the console",
        "source": FILE,
        "published_by": "configuration",
        "published_at": _now(),
    }
    return insert_ignore(conn, policy_versions, values, ("connector", "store_id", "number"))


def publish(
    conn: Connection,
    connector: str,
    store_id: str,
    body: str,
    *,
    by: str,
    checked_by: str | None = None,
    note: str = "",
) -> Version:
    """The next number for ``body`` (validated here too: nothing invalid becomes live). Two
    publishers at once: the unique number makes the second fail (``IntegrityError``)."""
    label = policy_of_text(body).version
    newest = conn.execute(select(func.max(policy_versions.c.number)).where(*_of_store(connector, store_id))).scalar()
    number = int(newest or 0) + 1
    at = _now()
    conn.execute(
        policy_versions.insert().values(
            connector=connector,
            store_id=store_id,
            number=number,
            body=body,
            label=label,
            note=note,
            source=CONSOLE,
            published_by=by,
            checked_by=checked_by,
            published_at=at,
        )
    )
    return Version(number, body, label, note, CONSOLE, by, checked_by, at)


# --- the draft -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    body: str
    updated_by: str
    updated_at: datetime
    shadow_body: str | None
    shadow_since: datetime | None
    shadow_by: str | None
    proposed_body: str | None
    proposed_by: str | None
    proposed_user: str | None
    proposed_at: datetime | None
    proposed_note: str | None


def draft(conn: Connection, connector: str, store_id: str) -> Draft | None:
    d = policy_drafts.c
    row = conn.execute(select(policy_drafts).where(d.connector == connector, d.store_id == store_id)).first()
    if row is None:
        return None
    return Draft(
        row.body,
        row.updated_by,
        as_utc(row.updated_at) or row.updated_at,
        row.shadow_body,
        as_utc(row.shadow_since),
        row.shadow_by,
        row.proposed_body,
        row.proposed_by,
        row.proposed_user,
        as_utc(row.proposed_at),
        row.proposed_note,
    )


def save_draft(conn: Connection, connector: str, store_id: str, body: str, by: str) -> None:
    values = {"connector": connector, "store_id": store_id, "body": body, "updated_by": by, "updated_at": _now()}
    upsert(conn, policy_drafts, values, ("connector", "store_id"))


def _set(conn: Connection, connector: str, store_id: str, **values: Any) -> bool:
    d = policy_drafts.c
    where = (d.connector == connector, d.store_id == store_id)
    return conn.execute(update(policy_drafts).where(*where).values(**values)).rowcount == 1


def start_shadow(conn: Connection, connector: str, store_id: str, body: str, by: str) -> bool:
    return _set(conn, connector, store_id, shadow_body=body, shadow_since=_now(), shadow_by=by)


def stop_shadow(conn: Connection, connector: str, store_id: str) -> bool:
    return _set(conn, connector, store_id, shadow_body=None, shadow_since=None, shadow_by=None)


def propose(
    conn: Connection, connector: str, store_id: str, body: str, *, by: str, user: str | None, note: str
) -> bool:
    return _set(
        conn,
        connector,
        store_id,
        proposed_body=body,
        proposed_by=by,
        proposed_user=user,
        proposed_at=_now(),
        proposed_note=note,
    )


def clear_proposal(conn: Connection, connector: str, store_id: str) -> bool:
    return _set(
        conn,
        connector,
        store_id,
        proposed_body=None,
        proposed_by=None,
        proposed_user=None,
        proposed_at=None,
        proposed_note=None,
    )
