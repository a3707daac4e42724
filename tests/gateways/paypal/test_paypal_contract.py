"""PayPalGateway passes the hub's gateway contract suite against the PayPal simulator."""

from __future__ import annotations

import pytest

from hub.testing.contract import GatewayContract


class TestPayPalGatewayContract(GatewayContract):
    @pytest.fixture(params=["USD", "JPY"])
    def captured_payment(self, sim, request) -> tuple[str, int, str]:  # type: ignore[no-untyped-def]
        return sim.create_payment(4000, request.param), 4000, request.param
