"""The hub's own gateway contract suite, run against ExamplePayGateway and the simulator."""

from __future__ import annotations

import pytest
from refundhub_example_gateway.simulator import ExamplePaySimulator

from hub.testing.contract import GatewayContract


class TestExamplePayContract(GatewayContract):
    # ``gateway`` comes from conftest.py; the suite also needs a fresh captured payment per test
    @pytest.fixture(params=["USD", "JPY"])  # JPY: a zero-decimal currency, still minor units
    def captured_payment(self, sim: ExamplePaySimulator, request: pytest.FixtureRequest) -> tuple[str, int, str]:
        return sim.create_payment(4000, request.param), 4000, request.param
