"""Every official Shopify fixture through verify (and parse), with good and tampered signatures; the
shop, topic and dedupe key a delivery is filed under."""

from __future__ import annotations

import pytest

from connectors.shopify import ShopifyConnector
from hub.contracts import Inbound
from hub.errors import MalformedBody, SignatureInvalid, UnsupportedMediaType
from hub.testing import contract, hmac_base64, inbound
from hub.testing.contract import ConnectorContract

from .conftest import SECRET, SHOP, delivery_of, fixture_body, notice_of, signed

# fixture file -> (topic, notice kind)
WEBHOOKS = {
    "webhook_returns_request.json": ("returns/request", "requested"),
    "webhook_returns_approve.json": ("returns/approve", "requested"),
    "webhook_returns_decline.json": ("returns/decline", "ignored"),
    "webhook_returns_close.json": ("returns/close", "ignored"),
    "webhook_refunds_create.json": ("refunds/create", "recorded"),
    "webhook_order_transactions_create.json": ("order_transactions/create", "ignored"),
    "webhook_orders_paid.json": ("orders/paid", "ignored"),
    "webhook_app_uninstalled.json": ("app/uninstalled", "uninstalled"),
    "webhook_customers_redact.json": ("customers/redact", "redact"),
    "webhook_shop_redact.json": ("shop/redact", "redact"),
    "webhook_customers_data_request.json": ("customers/data_request", "data_request"),
}


def _authentic() -> list[Inbound]:
    return [signed(fixture_body(name), topic) for name, (topic, _) in WEBHOOKS.items()]


class TestShopifyContract(ConnectorContract):
    @pytest.fixture(autouse=True)
    def _data_request_is_a_notice_kind(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # hub/contracts/inbound.py documents the data_request kind; the contract suite's list
        # (hub/testing/contract.py NOTICE_KINDS) does not have it yet
        monkeypatch.setattr(contract, "NOTICE_KINDS", contract.NOTICE_KINDS | {"data_request"})

    @pytest.fixture
    def connector(self, offline_connector: ShopifyConnector) -> ShopifyConnector:
        return offline_connector

    @pytest.fixture
    def authentic(self) -> list[Inbound]:
        return _authentic()

    @pytest.fixture
    def tampered(self) -> list[Inbound]:
        body = fixture_body("webhook_refunds_create.json")
        good = signed(body, "refunds/create")
        return [
            signed(body, "refunds/create", secret="not-the-secret"),
            inbound(body.replace(b"75.00", b"750.00"), dict(good.headers)),
            inbound(body, {k: v for k, v in good.headers.items() if k != "x-shopify-hmac-sha256"}),
            inbound(body, {**good.headers, "X-Shopify-Hmac-Sha256": "bm90IGEgc2lnbmF0dXJl"}),
            inbound(body, dict(good.headers), content_type="application/x-www-form-urlencoded"),
        ]


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_fixture_verifies_and_parses(offline_connector: ShopifyConnector, name: str) -> None:
    topic, kind = WEBHOOKS[name]
    item = signed(fixture_body(name), topic)
    verified = offline_connector.verify(item)
    assert (verified.store_id, verified.topic, verified.ack_only) == (SHOP, topic, False)
    (notice,) = offline_connector.parse(delivery_of(item, verified))
    assert (notice.kind, notice.store_id, notice.topic) == (kind, SHOP, topic)
    assert notice.hints["event_id"] == item.headers["x-shopify-event-id"]


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_fixture_with_tampered_body_is_refused(offline_connector: ShopifyConnector, name: str) -> None:
    topic, _ = WEBHOOKS[name]
    good = signed(fixture_body(name), topic)
    with pytest.raises(SignatureInvalid):
        offline_connector.verify(inbound(good.body + b" ", dict(good.headers)))
    with pytest.raises(SignatureInvalid):
        offline_connector.verify(signed(fixture_body(name), topic, secret="someone-else"))


def test_previous_secret_is_accepted_during_rotation(offline_connector: ShopifyConnector) -> None:
    item = signed(fixture_body("webhook_returns_request.json"), "returns/request", secret="old-secret")
    assert offline_connector.verify(item).topic == "returns/request"


def test_event_style_lowercase_headers(offline_connector: ShopifyConnector) -> None:
    body = fixture_body("webhook_returns_request.json")
    item = inbound(
        body,
        {
            "shopify-hmac-sha256": hmac_base64(SECRET, body),
            "shopify-topic": "returns/request",
            "shopify-shop-domain": SHOP,
            "shopify-event-id": "evt-1",
            "shopify-triggered-at": "2026-05-01T10:00:00Z",
        },
    )
    verified = offline_connector.verify(item)
    assert verified.dedupe_key == f"{SHOP}:returns/request:event:evt-1"
    assert notice_of(offline_connector, item).hints["triggered_at"] == "2026-05-01T10:00:00Z"


def test_dedupe_key_prefers_event_id_then_webhook_id(offline_connector: ShopifyConnector) -> None:
    body = fixture_body("webhook_refunds_create.json")
    first = signed(body, "refunds/create", **{"X-Shopify-Event-Id": "E1", "X-Shopify-Webhook-Id": "W1"})
    retry_other_subscription = signed(
        body, "refunds/create", **{"X-Shopify-Event-Id": "E1", "X-Shopify-Webhook-Id": "W2"}
    )
    assert offline_connector.verify(first).dedupe_key == offline_connector.verify(retry_other_subscription).dedupe_key
    no_event = inbound(
        body,
        {
            k: v
            for k, v in signed(body, "refunds/create", **{"X-Shopify-Webhook-Id": "W9"}).headers.items()
            if k != "x-shopify-event-id"
        },
    )
    assert offline_connector.verify(no_event).dedupe_key.endswith(":webhook:W9")


@pytest.mark.parametrize("domain", ["evil.example.com", "", "127.0.0.1", "shop.myshopify.com.evil.io"])
def test_shop_domain_must_be_myshopify(offline_connector: ShopifyConnector, domain: str) -> None:
    with pytest.raises(MalformedBody):
        offline_connector.verify(signed(fixture_body("webhook_returns_request.json"), "returns/request", shop=domain))


def test_wrong_media_type_and_non_utf8(offline_connector: ShopifyConnector) -> None:
    body = fixture_body("webhook_returns_request.json")
    with pytest.raises(UnsupportedMediaType):
        offline_connector.verify(inbound(body, dict(signed(body, "returns/request").headers), content_type="text/xml"))
    junk = b"\xff\xfe{}"
    with pytest.raises(SignatureInvalid):
        offline_connector.verify(signed(junk, "returns/request"))
