"""A hub over the sandbox platform and the Stripe simulator (``tests.gateways.conftest``), for
reconciliation and backfill: drift is made at the source — a refund in the gateway's dashboard,
a record deleted or doubled in the store — and the hub must find and repair it.

Every world runs on SQLite and on PostgreSQL (a private schema of database ``test``, named by
the URL itself, so ``refund-hub`` commands given the world's configuration reach the same one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import PG_URL, private_schema
from tests.gateways.conftest import CASES, GatewayWorld, make_gateway_world


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, pg_available: bool) -> Iterator[str | None]:
    """None: the harness's SQLite file; else a PostgreSQL URL whose connections use a fresh schema."""
    if request.param == "sqlite":
        yield None
        return
    with private_schema(pg_available) as schema:
        yield f"{PG_URL}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def world(tmp_path: Path, database_url: str | None) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["stripe"], tmp_path, database_url)


@pytest.fixture(params=sorted(CASES))
def any_world(request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None) -> Iterator[GatewayWorld]:
    """The same world on each gateway: Stripe, PayPal and Square."""
    yield from make_gateway_world(CASES[request.param], tmp_path, database_url)
