"""Shared fixtures: databases (SQLite file, and PostgreSQL on 127.0.0.1 in a private schema)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from hub.db.engine import make_engine

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:  # refused, unknown database, bad credentials: not reachable
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


@contextmanager
def private_schema(pg_available: bool) -> Iterator[str]:
    """A fresh PostgreSQL schema in database 'test', dropped afterwards; yields its name."""
    if not pg_available:
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (database 'test'); .ci/run starts it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_available: bool) -> Iterator[sa.Engine]:
    """A PostgreSQL engine whose connections live in a fresh schema, dropped afterwards."""
    with private_schema(pg_available) as schema:
        engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        yield engine
        engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request) -> sa.Engine:  # type: ignore[no-untyped-def]
    """Storage tests run on both databases."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
