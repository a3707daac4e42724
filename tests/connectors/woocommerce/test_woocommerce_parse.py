"""From a verified delivery to notices: refunds in ``refunds[]``, refund requests, action topics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from hub.contracts import Delivery, Headers, Inbound, Notice
from hub.errors import ParseError

Signed = Callable[..., Inbound]
Load = Callable[[str], Any]
Parse = Callable[[Inbound], list[Notice]]


def test_order_without_refunds_is_ignored(notices_of: Parse, signed: Signed, fixture_json: Load) -> None:
    notices = notices_of(signed(fixture_json("rest_v3_get_order_response.json")))
    assert [n.kind for n in notices] == ["ignored"]


def test_every_listed_order_parses(notices_of: Parse, signed: Signed, fixture_json: Load) -> None:
    kinds = [[n.kind for n in notices_of(signed(o))] for o in fixture_json("rest_v3_list_orders_response.json")]
    assert kinds == [["ignored"], ["recorded", "recorded"]]


def test_each_refund_of_the_order_is_a_recorded_notice(notices_of: Parse, signed: Signed, fixture_json: Load) -> None:
    notices = notices_of(signed(fixture_json("rest_v3_list_orders_response.json")[1]))
    assert [(n.order_id, n.source_ref, n.hints["refund_id"]) for n in notices] == [
        ("723", "refund:726", "726"),
        ("723", "refund:724", "724"),
    ]
    assert all(n.hints["execute_manual_refunds"] is False for n in notices)


def test_merged_delivery_with_two_new_refunds_gives_two_notices(
    notices_of: Parse, signed: Signed, fixture_json: Load
) -> None:
    order = {
        **fixture_json("rest_v3_get_order_response.json"),
        "refunds": [{"id": 731, "reason": "late", "total": "-5.00"}, {"id": 730, "reason": "", "total": "-2.00"}],
    }
    assert [n.source_ref for n in notices_of(signed(order))] == ["refund:731", "refund:730"]


def test_refund_request_status(notices_of: Parse, signed: Signed, fixture_json: Load) -> None:
    order = {**fixture_json("rest_v3_get_order_response.json"), "status": "refund-requested"}
    [notice] = notices_of(signed(order))
    assert (notice.kind, notice.order_id, notice.source_ref) == ("requested", "727", "request:727")


def test_request_status_is_a_store_setting(
    docs_connector: WooCommerceConnector, docs_stores: Any, notices_of: Parse, signed: Signed, fixture_json: Load
) -> None:
    store = docs_stores.get("https://example.com")
    docs_stores.add(
        store.id,
        settings={**store.settings, "refund_request_status": "wc-return-requested", "execute_manual_refunds": True},
        credentials=store.credentials,
    )
    order = {**fixture_json("rest_v3_list_orders_response.json")[1], "status": "return-requested"}
    notices = notices_of(signed(order))
    assert [n.kind for n in notices] == ["recorded", "recorded", "requested"]
    assert notices[0].hints["execute_manual_refunds"] is True


def test_refund_created_action_carries_the_refund_id(notices_of: Parse, signed: Signed) -> None:
    [notice] = notices_of(
        signed({"action": "woocommerce_refund_created", "arg": 726}, "action.woocommerce_refund_created")
    )
    assert (notice.kind, notice.order_id, notice.source_ref) == ("recorded", None, "refund:726")


def test_order_refunded_action_carries_only_the_order(notices_of: Parse, signed: Signed) -> None:
    [notice] = notices_of(
        signed({"action": "woocommerce_order_refunded", "arg": 723}, "action.woocommerce_order_refunded")
    )
    assert (notice.kind, notice.order_id, notice.hints["refund_id"]) == ("recorded", "723", None)


def test_configured_request_action(docs_stores: Any, notices_of: Parse, signed: Signed) -> None:
    store = docs_stores.get("https://example.com")
    docs_stores.add(
        store.id,
        settings={**store.settings, "refund_request_action": "action.wc_returns_request_created"},
        credentials=store.credentials,
    )
    [notice] = notices_of(
        signed({"action": "wc_returns_request_created", "arg": 727}, "action.wc_returns_request_created")
    )
    assert (notice.kind, notice.order_id, notice.source_ref, notice.hints["via"]) == (
        "requested",
        "727",
        "request:727",
        "action",
    )


@pytest.mark.parametrize(
    ("body", "topic"),
    [
        ({"action": "woocommerce_new_customer_note", "arg": 5}, "action.woocommerce_new_customer_note"),
        ({"id": 93, "name": "Woo Single #1"}, "product.updated"),
        ({"id": 727}, "order.deleted"),
    ],
)
def test_other_topics_are_ignored(notices_of: Parse, signed: Signed, body: Any, topic: str) -> None:
    assert [n.kind for n in notices_of(signed(body, topic))] == ["ignored"]


def test_ping_parses_to_nothing_to_do(docs_connector: WooCommerceConnector) -> None:
    delivery = Delivery(
        id="d", connector="woocommerce", store_id="unknown", topic="ping", headers=Headers({}), body=b"webhook_id=3"
    )
    assert [n.kind for n in docs_connector.parse(delivery)] == ["ignored"]


@pytest.mark.parametrize(
    "body", [b"<html>", b"[1, 2]", b'{"id": "seven"}', b'{"action": "woocommerce_refund_created"}']
)
def test_unreadable_authentic_body_is_a_parse_error(docs_connector: WooCommerceConnector, body: bytes) -> None:
    delivery = Delivery(
        id=uuid.uuid4().hex,
        connector="woocommerce",
        store_id="https://example.com",
        topic="order.updated" if not body.startswith(b'{"action') else "action.woocommerce_refund_created",
        headers=Headers({}),
        body=body,
    )
    with pytest.raises(ParseError):
        docs_connector.parse(delivery)
