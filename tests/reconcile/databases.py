"""Where a test hub keeps its ledger: the harness's SQLite file, or a private PostgreSQL schema
named in the URL itself (``options=-csearch_path=…``), so a ``refund-hub`` command given the
hub's configuration reaches the same database as the hub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from tests.conftest import PG_URL, private_schema

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]  # fixture params


@contextmanager
def database_url(kind: str, pg_available: bool) -> Iterator[str | None]:
    """None for SQLite (the harness's default); else the URL of a fresh schema, dropped after."""
    if kind == "sqlite":
        yield None
        return
    with private_schema(pg_available) as schema:
        yield f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"
