"""``INSERT … ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any], conflict: Sequence[str]) -> bool:
    """Insert unless a row with the same ``conflict`` columns exists; True if inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    # rowcount is -1 for this statement under psycopg 3; RETURNING says it plainly on both databases
    key = list(table.primary_key.columns)[0]
    return conn.execute(stmt.returning(key)).first() is not None
