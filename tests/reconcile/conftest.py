"""A hub over the sandbox platform and the Stripe simulator (``tests.gateways.conftest``), for
reconciliation and backfill: drift is made at the source — a refund in the gateway's dashboard,
a record deleted or doubled in the store — and the hub must find and repair it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateways.conftest import CASES, GatewayWorld, make_gateway_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["stripe"], tmp_path)


@pytest.fixture(params=sorted(CASES))
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayWorld]:
    """The same world on each gateway: Stripe, PayPal and Square."""
    yield from make_gateway_world(CASES[request.param], tmp_path)
