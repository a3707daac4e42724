"""A hub over the sandbox platform and the Stripe simulator (``tests.gateways.conftest``), for
reconciliation and backfill: drift is made at the source — a refund in the gateway's dashboard,
a record deleted or doubled in the store — and the hub must find and repair it.

Every world runs on SQLite and on PostgreSQL (``tests.reconcile.databases``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateways.conftest import CASES, GatewayWorld, make_gateway_world
from tests.reconcile import databases


@pytest.fixture(params=databases.KINDS)
def database_url(request: pytest.FixtureRequest, pg_available: bool) -> Iterator[str | None]:
    with databases.database_url(request.param, pg_available) as url:
        yield url


@pytest.fixture
def world(tmp_path: Path, database_url: str | None) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["stripe"], tmp_path, database_url)


@pytest.fixture(params=sorted(CASES))
def any_world(request: pytest.FixtureRequest, tmp_path: Path, database_url: str | None) -> Iterator[GatewayWorld]:
    """The same world on each gateway: Stripe, PayPal and Square."""
    yield from make_gateway_world(CASES[request.param], tmp_path, database_url)
