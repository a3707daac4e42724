"""The hub's connector contract suite, run on WooCommerce deliveries built from the official fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from hub.contracts import Inbound
from hub.testing import inbound
from hub.testing.contract import ConnectorContract


class TestWooCommerceContract(ConnectorContract):
    @pytest.fixture
    def connector(self, docs_connector: WooCommerceConnector) -> WooCommerceConnector:
        return docs_connector

    @pytest.fixture
    def authentic(self, signed: Callable[..., Inbound], fixture_json: Callable[[str], Any]) -> list[Inbound]:
        orders = [fixture_json("rest_v3_get_order_response.json"), *fixture_json("rest_v3_list_orders_response.json")]
        return [
            *(signed(order) for order in orders),
            signed({"action": "woocommerce_refund_created", "arg": 726}, "action.woocommerce_refund_created"),
            signed({"action": "woocommerce_order_refunded", "arg": 723}, "action.woocommerce_order_refunded"),
            signed(orders[0], secret="oldSecret42"),  # the previous secret, during a rotation
            inbound(
                b"webhook_id=3",
                content_type="application/x-www-form-urlencoded",
                query={"store": "https://example.com"},
            ),
        ]

    @pytest.fixture
    def tampered(self, signed: Callable[..., Inbound], fixture_json: Callable[[str], Any]) -> list[Inbound]:
        order = fixture_json("rest_v3_get_order_response.json")
        good = signed(order)
        forged_total = json.dumps({**order, "total": "2935.00"}).encode()
        return [
            Inbound(headers=good.headers, body=forged_total, content_type="application/json"),
            Inbound(headers=good.headers, body=good.body + b" ", content_type="application/json"),
            signed(order, secret="not-the-secret"),
            signed(order, source="https://attacker.example/"),
            inbound(good.body, {k: v for k, v in good.headers.items() if k != "x-wc-webhook-signature"}),
            Inbound(headers=good.headers, body=good.body, content_type="text/plain"),
            inbound(b"webhook_id=3&extra=1", content_type="application/x-www-form-urlencoded"),
        ]
