"""``INSERT … ON CONFLICT DO NOTHING`` and ``… DO UPDATE`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


@lru_cache(maxsize=64)
def insert_ignore_statement(dialect_name: str, table: Table, conflict: tuple[str, ...]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING <primary key>``: a row back means inserted.
    One statement object per (dialect, table, conflict): values travel as parameters."""
    # rowcount is -1 for this statement under psycopg 3; RETURNING says it plainly on both databases
    key = list(table.primary_key.columns)[0]
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(key)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict)).returning(key)


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], conflict: Sequence[str]) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True if inserted."""
    statement = insert_ignore_statement(conn.dialect.name, table, tuple(conflict))
    return conn.execute(statement, dict(values)).first() is not None


def upsert(conn: Connection, table: Table, values: Mapping[str, Any], conflict: Sequence[str]) -> None:
    """Insert, or update the existing row's other columns: one statement, so two writers of the
    same key at once never collide on the unique constraint (delete-then-insert did)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(dict(values))
    changed = {k: statement.excluded[k] for k in values if k not in conflict}
    conn.execute(statement.on_conflict_do_update(index_elements=list(conflict), set_=changed))
