"""Notices parsed from verified Shopify deliveries: returns, refunds, compliance topics, the signed shop."""

from __future__ import annotations

import json

import pytest

from connectors.shopify import ShopifyConnector
from hub.errors import ParseError

from .conftest import delivery_of, fixture_body, notice_of, signed


def test_returns_request_notice(offline_connector: ShopifyConnector) -> None:
    notice = notice_of(offline_connector, signed(fixture_body("webhook_returns_request.json"), "returns/request"))
    assert notice.order_id == "4783296544821"
    assert notice.source_ref == "gid://shopify/Return/123134564567890"


def test_refunds_create_notice_points_at_the_refund(offline_connector: ShopifyConnector) -> None:
    notice = notice_of(offline_connector, signed(fixture_body("webhook_refunds_create.json"), "refunds/create"))
    assert (notice.kind, notice.order_id) == ("recorded", "820982911946154508")
    assert notice.source_ref == "gid://shopify/Refund/890088186047892319"


def test_rest_refund_resource_parses_as_refunds_create(offline_connector: ShopifyConnector) -> None:
    """The REST GET refund example has the same shape the refunds/create webhook sends."""
    refund = json.loads(fixture_body("rest_get_refund_response.json"))["refund"]
    notice = notice_of(offline_connector, signed(json.dumps(refund).encode(), "refunds/create"))
    assert (notice.order_id, notice.source_ref) == ("450789469", "gid://shopify/Refund/509562969")


def test_decline_and_close_carry_the_return(offline_connector: ShopifyConnector) -> None:
    declined = notice_of(offline_connector, signed(fixture_body("webhook_returns_decline.json"), "returns/decline"))
    assert declined.hints["decline"]["reason"] == "return_period_ended"
    closed = notice_of(offline_connector, signed(fixture_body("webhook_returns_close.json"), "returns/close"))
    assert (closed.order_id, closed.hints["return_status"]) == ("4783296544821", "closed")


def test_compliance_hints(offline_connector: ShopifyConnector) -> None:
    redact = notice_of(offline_connector, signed(fixture_body("webhook_customers_redact.json"), "customers/redact"))
    assert (redact.hints["customer_id"], redact.hints["email"]) == ("191167", "john@example.com")
    assert redact.hints["order_ids"] == ["299938", "280263", "220458"]
    whole = notice_of(offline_connector, signed(fixture_body("webhook_shop_redact.json"), "shop/redact"))
    assert whole.kind == "redact" and whole.hints["whole_store"] is True
    asked = notice_of(
        offline_connector, signed(fixture_body("webhook_customers_data_request.json"), "customers/data_request")
    )
    assert asked.kind == "data_request"  # was "ignored": the hub now reports the customer's data
    assert (asked.hints["action"], asked.hints["data_request_id"], asked.hints["customer_id"]) == (
        "report_held_data",
        "9999",
        "191167",
    )


@pytest.mark.parametrize(
    "name,topic",
    [
        ("webhook_customers_redact.json", "customers/redact"),
        ("webhook_shop_redact.json", "shop/redact"),
        ("webhook_app_uninstalled.json", "app/uninstalled"),
    ],
)
def test_signed_shop_must_match_the_unsigned_header(offline_connector: ShopifyConnector, name: str, topic: str) -> None:
    """A body signed for one shop, replayed under another shop's domain, redacts or disables nothing."""
    item = signed(fixture_body(name, shop="victim.myshopify.com"), topic, shop="attacker.myshopify.com")
    notice = notice_of(offline_connector, item)
    assert notice.kind == "ignored"
    assert "victim.myshopify.com" in notice.hints["reason"]


def test_authentic_but_incomplete_body_is_a_parse_error(offline_connector: ShopifyConnector) -> None:
    item = signed(b'{"note": "no ids"}', "refunds/create")
    with pytest.raises(ParseError):
        offline_connector.parse(delivery_of(item, offline_connector.verify(item)))
    array = signed(b"[1, 2]", "returns/request")
    with pytest.raises(ParseError):
        offline_connector.parse(delivery_of(array, offline_connector.verify(array)))


def test_customer_data_request_is_a_data_request(offline_connector: ShopifyConnector) -> None:
    """The hub reports what it holds on the customer to the merchant from these hints."""
    item = signed(fixture_body("webhook_customers_data_request.json"), "customers/data_request")
    notice = notice_of(offline_connector, item)
    assert notice.kind == "data_request"
    assert (notice.hints["customer_id"], notice.hints["email"]) == ("191167", "john@example.com")
    assert notice.hints["order_ids"] == ["299938", "280263", "220458"]
    assert notice.hints["data_request_id"] == "9999"


# (fixture, the topic header it is replayed under): the signed body proves another topic
TOPIC_SWAPS = [
    ("webhook_refunds_create.json", "app/uninstalled"),
    ("webhook_orders_paid.json", "app/uninstalled"),
    ("webhook_customers_redact.json", "app/uninstalled"),
    ("webhook_shop_redact.json", "app/uninstalled"),
    ("webhook_orders_paid.json", "customers/redact"),
    ("webhook_refunds_create.json", "customers/redact"),
    ("webhook_customers_data_request.json", "customers/redact"),
    ("webhook_shop_redact.json", "customers/redact"),
    ("webhook_app_uninstalled.json", "customers/redact"),
    ("webhook_customers_redact.json", "shop/redact"),
    ("webhook_customers_data_request.json", "shop/redact"),
    ("webhook_app_uninstalled.json", "shop/redact"),
    ("webhook_orders_paid.json", "shop/redact"),
    ("webhook_customers_redact.json", "customers/data_request"),
    ("webhook_shop_redact.json", "customers/data_request"),
    ("webhook_returns_close.json", "refunds/create"),
    ("webhook_order_transactions_create.json", "refunds/create"),
    ("webhook_orders_paid.json", "refunds/create"),
    ("webhook_refunds_create.json", "returns/request"),
    ("webhook_orders_paid.json", "returns/request"),
    ("webhook_app_uninstalled.json", "returns/request"),
    ("webhook_order_transactions_create.json", "returns/approve"),
]


@pytest.mark.parametrize("name,topic", TOPIC_SWAPS)
def test_a_signed_body_replayed_under_another_topic_is_not_that_topic(
    offline_connector: ShopifyConnector, name: str, topic: str
) -> None:
    """The topic header is not signed: a refunds/create body sent as app/uninstalled, or an order
    sent as customers/redact, must disable, redact or refund nothing; it is a dead letter."""
    item = signed(fixture_body(name), topic)
    with pytest.raises(ParseError, match="topic"):
        offline_connector.parse(delivery_of(item, offline_connector.verify(item)))


@pytest.mark.parametrize(
    "name,topic",
    [
        ("webhook_customers_redact.json", "customers/redact"),
        ("webhook_customers_data_request.json", "customers/data_request"),
        ("webhook_shop_redact.json", "shop/redact"),
        ("webhook_app_uninstalled.json", "app/uninstalled"),
    ],
)
def test_a_body_that_names_no_shop_is_not_trusted_for_one(
    offline_connector: ShopifyConnector, name: str, topic: str
) -> None:
    body = json.loads(fixture_body(name))
    body.pop("shop_domain" if "shop_domain" in body else "myshopify_domain")
    item = signed(json.dumps(body).encode(), topic)
    with pytest.raises(ParseError):
        offline_connector.parse(delivery_of(item, offline_connector.verify(item)))
