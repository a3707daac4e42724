"""SquareGateway passes the hub's gateway contract suite against the Square simulator."""

from __future__ import annotations

import pytest

from hub.testing.contract import GatewayContract


class TestSquareGatewayContract(GatewayContract):
    @pytest.fixture
    def captured_payment(self, sim) -> tuple[str, int, str]:
        return sim.create_payment(4000, "USD"), 4000, "USD"
