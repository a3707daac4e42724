"""``fetch`` against the REST answers of the official docs (served with ``responses``), over https:
HTTP Basic by default, query-string auth when the store asks for it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from connectors.woocommerce import WooCommerceConnector
from hub.contracts import Execution, Notice, Outcome, WriteBack
from hub.models import Ignored, ProductKind, RefundRecorded, RefundRequested

Load = Callable[[str], Any]
API = "https://example.com/wp-json/wc/v3"


@pytest.fixture
def docs_api(fixture_json: Load) -> Iterator[responses.RequestsMock]:
    orders = {o["id"]: o for o in fixture_json("rest_v3_list_orders_response.json")}
    refunds = {r["id"]: r for r in fixture_json("rest_v3_list_refunds_response.json")}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for order_id, order in orders.items():
            mock.get(f"{API}/orders/{order_id}", json=order)
        # the list answers every search the same (the guest's order search and the count alike)
        listed = {"X-WP-TotalPages": "1", "X-WP-Total": str(len(orders))}
        mock.get(f"{API}/orders", json=list(orders.values()), headers=listed)
        mock.get(f"{API}/orders/723/refunds", json=list(refunds.values()), headers={"X-WP-TotalPages": "1"})
        for refund_id, refund in refunds.items():
            mock.get(f"{API}/orders/723/refunds/{refund_id}", json=refund)
        mock.get(f"{API}/refunds", json=[refunds[726]])
        # a store without WooCommerce Admin's analytics: downloads fall back to limit − remaining
        no_route = {"code": "rest_no_route", "message": "No route was found", "data": {"status": 404}}
        mock.get("https://example.com/wp-json/wc-analytics/reports/downloads", json=no_route, status=404)
        mock.get(
            f"{API}/products/87",
            json={"id": 87, "type": "simple", "virtual": True, "downloadable": True, "download_limit": 3, "tags": []},
        )
        mock.get(f"{API}/products/34", json={"id": 34, "type": "simple", "virtual": False, "downloadable": False})
        mock.get(
            f"{API}/customers/26/downloads",
            json=[
                {
                    "download_id": "91447fd1849316bbc89dfb7e986a6006",
                    "product_id": 87,
                    "order_id": 723,
                    "downloads_remaining": "2",
                    "access_expires": "never",
                    "access_expires_gmt": "never",
                }
            ],
        )
        yield mock


def _store(docs_connector: WooCommerceConnector) -> Any:
    return docs_connector.stores.get("https://example.com")


def test_manual_refund_from_the_docs(docs_connector: WooCommerceConnector, docs_api: responses.RequestsMock) -> None:
    notice = Notice(
        kind="recorded",
        store_id="https://example.com",
        topic="order.updated",
        order_id="723",
        hints={"refund_id": "724"},
    )
    event = docs_connector.fetch(_store(docs_connector), notice)
    assert isinstance(event, RefundRecorded)
    assert event.money_moved is False and event.gateway_refund_id is None  # "refunded_payment": false
    request = event.request
    assert (request.source_ref, request.amount, request.currency, request.order_id) == ("refund:724", 900, "USD", "723")
    assert (request.order.total, request.order.captured, request.order.refunded) == (3900, 0, 0)
    assert request.customer.id == "26" and request.customer.email == "joao.silva@example.com"
    [line] = request.lines
    assert (line.line_id, line.quantity, line.unit_price, line.kind) == ("311", 1, 900, ProductKind.DIGITAL)
    assert line.usage is not None and (line.usage.downloads, line.usage.download_limit) == (1, 3)
    assert request.requested_at.isoformat() == "2017-03-21T19:55:37+00:00"
    assert request.hub_refund_id is None
    auth = docs_api.calls[0].request.headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"ck_x:cs_x").decode()


def test_refund_created_action_finds_its_order(
    docs_connector: WooCommerceConnector, docs_api: responses.RequestsMock
) -> None:
    notice = Notice(
        kind="recorded",
        store_id="https://example.com",
        topic="action.woocommerce_refund_created",
        hints={"refund_id": "726"},
    )
    event = docs_connector.fetch(_store(docs_connector), notice)
    assert isinstance(event, RefundRecorded)
    assert (event.request.order_id, event.request.amount, event.request.order.refunded) == ("723", 1000, 900)
    assert event.request.lines == ()


def test_order_refunded_action_takes_the_newest_refund(
    docs_connector: WooCommerceConnector, docs_api: responses.RequestsMock
) -> None:
    notice = Notice(
        kind="recorded",
        store_id="https://example.com",
        topic="action.woocommerce_order_refunded",
        order_id="723",
        hints={"refund_id": None},
    )
    event = docs_connector.fetch(_store(docs_connector), notice)
    assert isinstance(event, RefundRecorded) and event.request.source_ref == "refund:726"


def test_request_on_an_order_from_the_docs(
    docs_connector: WooCommerceConnector, docs_stores: Any, docs_api: responses.RequestsMock, fixture_json: Load
) -> None:
    order = {
        **fixture_json("rest_v3_get_order_response.json"),
        "status": "refund-requested",
        "payment_method": "stripe",
        "transaction_id": "ch_1",
    }
    docs_api.replace(responses.GET, f"{API}/orders/727", json=order)
    docs_api.get(f"{API}/products/93", json={"id": 93, "type": "simple"})
    docs_api.get(f"{API}/products/22", json={"id": 22, "type": "variable", "tags": [{"name": "clearance"}]})
    docs_api.get(f"{API}/products/22/variations/23", json={"id": 23, "type": "variation", "virtual": True})
    notice = Notice(kind="requested", store_id="https://example.com", topic="order.updated", order_id="727")
    event = docs_connector.fetch(_store(docs_connector), notice)
    assert isinstance(event, RefundRequested)
    request = event.request
    assert (request.amount, request.shipping, request.source_ref) == (2935, 1000, "request:727")
    assert [(x.line_id, x.quantity, x.kind, x.tags) for x in request.lines] == [
        ("315", 2, ProductKind.PHYSICAL, ()),
        ("316", 1, ProductKind.SERVICE, ("clearance",)),
    ]
    assert request.primary_payment.reference == "ch_1"


def test_order_no_longer_in_request_status_is_ignored(
    docs_connector: WooCommerceConnector, docs_api: responses.RequestsMock
) -> None:
    notice = Notice(kind="requested", store_id="https://example.com", topic="order.updated", order_id="727")
    event = docs_connector.fetch(_store(docs_connector), notice)
    assert isinstance(event, Ignored) and "processing" in event.reason


def test_query_string_auth_when_the_store_asks(
    docs_connector: WooCommerceConnector, docs_stores: Any, docs_api: responses.RequestsMock
) -> None:
    store = _store(docs_connector)
    docs_stores.add(store.id, settings={**store.settings, "query_string_auth": True}, credentials=store.credentials)
    notice = Notice(
        kind="recorded", store_id=store.id, topic="order.updated", order_id="723", hints={"refund_id": "726"}
    )
    docs_connector.fetch(docs_stores.get(store.id), notice)
    first = docs_api.calls[0].request
    assert "consumer_key=ck_x" in str(first.url) and "Authorization" not in first.headers


@pytest.fixture
def creates_726(docs_api: responses.RequestsMock, fixture_json: Load) -> responses.RequestsMock:
    """Order 723 without refunds yet, and the docs' answer to creating one."""
    docs_api.replace(responses.GET, f"{API}/orders/723/refunds", json=[], headers={"X-WP-TotalPages": "1"})
    docs_api.post(f"{API}/orders/723/refunds", json=fixture_json("rest_v3_create_refund_response.json"), status=201)
    return docs_api


def test_write_back_answered_with_the_docs_refund(
    docs_connector: WooCommerceConnector, creates_726: responses.RequestsMock
) -> None:
    writeback = WriteBack(
        hub_refund_id="rf_1",
        order_id="723",
        source_ref="request:723",
        amount=1000,
        currency="USD",
        outcome=Outcome.SUCCEEDED,
        route="gateway:stripe",
        gateway="stripe",
        gateway_refund_id="re_1",
    )
    result = docs_connector.record(_store(docs_connector), writeback)
    assert result.reference == "726" and result.detail["created"] is True
    sent = json.loads(creates_726.calls[-1].request.body or b"{}")
    assert (sent["amount"], sent["api_refund"], sent["line_items"]) == ("10.00", False, [])
    assert {"key": "_refund_hub_id", "value": "rf_1"} in sent["meta_data"]


def test_platform_refund_the_plugin_did_not_pay_is_unknown(
    docs_connector: WooCommerceConnector, creates_726: responses.RequestsMock
) -> None:
    execution = Execution(
        hub_refund_id="rf_2",
        idempotency_key="hub-rf_2",
        payment_reference="",
        amount=1000,
        currency="USD",
        order_id="723",
    )
    result = docs_connector.refund_on_platform(_store(docs_connector), execution)
    assert (result.outcome, result.gateway_refund_id, result.code) == (Outcome.UNKNOWN, "726", "not_refunded_payment")
