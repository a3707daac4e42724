"""The hub's gateway contract suite, run against the Stripe adapter and its simulator."""

from __future__ import annotations

import pytest

from hub.testing.contract import GatewayContract


class TestStripeContract(GatewayContract):
    @pytest.fixture
    def captured_payment(self, sim):
        return sim.create_payment(4000, "USD"), 4000, "USD"
