"""The pure mappings against Adobe's REST tutorial payloads (order, invoice) and Magento's own shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from hub.models import ProductKind, ReasonCode


def test_order_fixture_normalizes(kit: Any) -> None:
    order = kit.load("rest_get_order_V1_orders_id_response.json")
    invoice = kit.load("rest_get_invoice_V1_invoices_id_response.json")
    facts = tf.order_facts(order, [invoice])
    assert facts.created_at == datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC)
    assert facts.paid_at == datetime(2017, 8, 21, 22, 36, 2, tzinfo=UTC)
    assert (facts.currency, facts.total, facts.captured, facts.refunded) == ("USD", 16500, 0, 0)
    assert tf.customer(order).model_dump(exclude_none=True) == {"id": "3", "email": "jdoe@example.com"}
    payment = tf.payment(order)
    assert (payment.platform_label, payment.reference, payment.currency) == ("banktransfer", "order:3", "USD")
    assert payment.extra["additional_information"] == "Bank Transfer Payment"
    (line,) = tf.order_lines(order, {"3": 1}, {})
    assert (line.line_id, line.sku, line.unit_price, line.tax, line.kind) == (
        "3",
        "WS12-M-Orange",
        2200,
        0,
        ProductKind.PHYSICAL,
    )
    assert tf.remaining_quantities(order) == {}  # nothing invoiced yet in the tutorial order


def test_money_and_time() -> None:
    assert tf.minor(32.99, "USD") == 3299
    assert tf.minor("32444.000000", "USD") == 3244400
    assert tf.minor(0.1 + 0.2, "USD") == 30
    assert tf.minor(1500, "JPY") == 1500
    assert tf.minor(None, "USD") == 0
    assert bodies.amount(1250, "KWD") == 1.25
    assert tf.parse_time("2017-08-21 22:22:19") == datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC)
    assert tf.parse_time("") is None
    assert tf.format_time(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02 03:04:05"


def test_error_messages_and_reasons() -> None:
    assert tf.error_message({"message": "The most money available to refund is %1.", "parameters": ["0.00"]}) == (
        "The most money available to refund is 0.00."
    )
    assert tf.error_message({"message": "Access to %resources", "parameters": {"resources": "Sales"}}) == (
        "Access to Sales"
    )
    assert tf.reason_code("Wrong Size") is ReasonCode.SIZE_OR_FIT
    assert tf.reason_code("it arrived damaged") is ReasonCode.DAMAGED
    assert tf.reason_code("whatever") is ReasonCode.OTHER
    assert tf.hub_refund_id(["nothing", {"comment": "Refunded (refund-hub:rf_9x)"}]) == "rf_9x"


def test_transaction_ids_and_products() -> None:
    order = {
        "entity_id": 4,
        "order_currency_code": "EUR",
        "total_paid": 10,
        "payment": {"method": "paypal_express", "last_trans_id": "8MC585209K746392H-capture", "amount_paid": 10},
    }
    assert tf.payment(order).reference == "8MC585209K746392H"
    item = {"item_id": 1, "sku": "E", "product_type": "downloadable", "price": 9, "row_total": 9, "qty_ordered": 1}
    product = {
        "type_id": "downloadable",
        "custom_attributes": [{"attribute_code": "is_returnable", "value": "0"}],
        "extension_attributes": {"downloadable_product_links": [{"number_of_downloads": 5}]},
    }
    (line,) = tf.order_lines({"order_currency_code": "EUR", "items": [item]}, {"1": 1}, {"E": product})
    assert line.kind is ProductKind.DIGITAL and line.final_sale and line.usage is not None
    assert (line.usage.download_limit, line.usage.downloads) == (5, None)
    assert tf.product_kind({"product_type": "virtual"}, None) is ProductKind.SERVICE


def test_configurable_child_takes_the_parents_price() -> None:
    order = {
        "order_currency_code": "USD",
        "items": [
            {
                "item_id": 10,
                "sku": "MH01-S-Gray",
                "product_type": "configurable",
                "price": 52,
                "row_total": 52,
                "qty_ordered": 1,
                "qty_invoiced": 1,
                "qty_refunded": 0,
            },
            {
                "item_id": 11,
                "sku": "MH01-S-Gray",
                "product_type": "simple",
                "price": 0,
                "parent_item_id": 10,
                "qty_ordered": 1,
                "qty_invoiced": 1,
                "qty_refunded": 0,
            },
        ],
    }
    assert tf.remaining_quantities(order) == {"10": 1}
    (line,) = tf.order_lines(order, {"11": 1}, {})
    assert (line.line_id, line.unit_price) == ("11", 5200)


def test_order_request_marks() -> None:
    order = {
        "entity_id": 5,
        "increment_id": "000000005",
        "status": "refund_requested",
        "status_histories": [
            {"entity_id": 8, "comment": "#refund please, it broke"},
            {"entity_id": 9, "comment": "Declined (refund-hub:rf_1) #refund"},
        ],
    }
    marks = tf.order_request_marks(order, "refund_requested", "#refund")
    assert [m["source_ref"] for m in marks] == ["order:000000005:comment:8"]
    assert tf.order_request_marks(order, "refund_requested", None)[0]["source_ref"] == (
        "order:000000005:status:refund_requested"
    )
    assert tf.order_request_marks({**order, "status": "complete"}, "refund_requested", None) == []
