"""Who works on the hub, as the console's people pages list them: every account with its store
grants, and a person's API tokens (revoked ones too, so the list tells what happened).

The rules of who may manage whom live with the pages (``hub.console.team``); this module only
reads and writes the rows ``hub.ledger.people`` defines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub.db.tables import api_tokens, grants
from hub.ledger.people import Token, User, list_users
from hub.ledger.records import as_utc


@dataclass(frozen=True)
class Member:
    user: User
    grants: tuple[tuple[str, str], ...]  # (connector, store id); ("*", "*") is every store


def members(conn: Connection) -> list[Member]:
    """Every account with its grants, by e-mail (accounts are few: people, not refunds)."""
    held: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in conn.execute(select(grants.c.user_id, grants.c.connector, grants.c.store_id)):
        held[row.user_id].append((row.connector, row.store_id))
    return [Member(u, tuple(sorted(held.get(u.id, ())))) for u in list_users(conn)]


def tokens_of(conn: Connection, user_id: str) -> list[Token]:
    """A person's tokens, newest first; the digest never leaves the ledger."""
    rows = conn.execute(
        select(
            api_tokens.c.id,
            api_tokens.c.user_id,
            api_tokens.c.name,
            api_tokens.c.scopes,
            api_tokens.c.created_at,
            api_tokens.c.last_used_at,
            api_tokens.c.revoked_at,
        )
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.created_at.desc())
    )
    return [
        Token(
            r.id,
            r.user_id,
            r.name,
            frozenset(r.scopes),
            as_utc(r.created_at) or r.created_at,
            as_utc(r.last_used_at),
            as_utc(r.revoked_at),
        )
        for r in rows
    ]
