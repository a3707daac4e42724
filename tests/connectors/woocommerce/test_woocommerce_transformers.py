"""The pure mappings: payments and routes, product kinds, digital usage, refund bodies, reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce import transformers as tx
from hub.models import Line, ProductKind, ReasonCode

Load = Callable[[str], Any]


def _order(fixture_json: Load, **changes: Any) -> dict[str, Any]:
    return {**fixture_json("rest_v3_get_order_response.json"), **changes}


def _meta(**values: str) -> list[dict[str, Any]]:
    return [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(values.items())]


def test_stripe_payment(fixture_json: Load) -> None:
    order = _order(
        fixture_json,
        payment_method="stripe",
        transaction_id="ch_3Abc",
        meta_data=_meta(_stripe_intent_id="pi_3Abc", _stripe_charge_captured="yes"),
    )
    pay = tx.payment(order)
    assert pay is not None
    assert (pay.platform_label, pay.reference, pay.captured, pay.currency) == ("stripe", "ch_3Abc", 2935, "USD")
    assert pay.extra == {"order_id": "727", "stripe_intent_id": "pi_3Abc", "captured": "true"}


def test_paypal_capture(fixture_json: Load) -> None:
    order = _order(
        fixture_json,
        payment_method="ppcp-gateway",
        transaction_id="3C679366HH908993F",
        meta_data=_meta(_ppcp_paypal_order_id="5O190127TN364715T", _ppcp_paypal_intent="CAPTURE"),
    )
    pay = tx.payment(order)
    assert pay is not None and pay.reference == "3C679366HH908993F" and pay.captured == 2935
    assert pay.extra["paypal_order_id"] == "5O190127TN364715T"
    assert (pay.extra["intent"], pay.extra["captured"]) == ("CAPTURE", "true")


def test_paypal_authorization_never_captured_is_a_void_not_a_refund(fixture_json: Load) -> None:
    order = _order(
        fixture_json,
        payment_method="ppcp-credit-card-gateway",
        transaction_id="0VF52814937998046",
        meta_data=_meta(_ppcp_paypal_intent="AUTHORIZE", _ppcp_paypal_captured="false"),
    )
    pay = tx.payment(order)
    assert pay is not None and pay.captured == 0
    assert (pay.extra["intent"], pay.extra["captured"]) == ("AUTHORIZE", "false")


def test_square_payment(fixture_json: Load) -> None:
    order = _order(
        fixture_json,
        payment_method="square_credit_card",
        transaction_id="KkAkhdMsgzn59SM8A89WgKwekxLZY",
        meta_data=_meta(
            _wc_square_credit_card_square_order_id="CAISENgvlJ6jLWAzERDzjyHVybY",
            _wc_square_credit_card_charge_captured="yes",
        ),
    )
    pay = tx.payment(order)
    assert pay is not None and pay.reference == "KkAkhdMsgzn59SM8A89WgKwekxLZY" and pay.captured == 2935
    assert pay.extra["square_order_id"] == "CAISENgvlJ6jLWAzERDzjyHVybY"


def test_unpaid_order_has_nothing_captured(fixture_json: Load) -> None:
    order = fixture_json("rest_v3_list_orders_response.json")[1]  # bacs, date_paid null
    pay = tx.payment(order)
    assert pay is not None and pay.platform_label == "bacs" and pay.captured == 0 and pay.reference == ""


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("stripe", "gateway:stripe"),
        ("stripe_sepa", "gateway:stripe"),
        ("ppcp-gateway", "gateway:paypal"),
        ("ppcp-googlepay", "gateway:paypal"),
        ("ppcp-some-future-method", "gateway:paypal"),
        ("square_credit_card", "gateway:square"),
        ("bacs", None),
        ("cod", None),
    ],
)
def test_default_routes(method: str, route: str | None) -> None:
    assert WooCommerceConnector.default_routes.get(method) == route


def test_default_routes_list_the_known_plugin_ids() -> None:
    assert dict(WooCommerceConnector.default_routes)["ppcp-gateway"] == "gateway:paypal"


@pytest.mark.parametrize(
    ("product", "kind"),
    [
        ({"type": "simple", "virtual": True, "downloadable": True}, ProductKind.DIGITAL),
        ({"type": "simple", "virtual": True, "downloadable": False}, ProductKind.SERVICE),
        ({"type": "simple", "virtual": False, "downloadable": True}, ProductKind.PHYSICAL),
        ({"type": "simple", "virtual": False, "downloadable": False}, ProductKind.PHYSICAL),
        ({"type": "subscription", "virtual": True, "downloadable": False}, ProductKind.SUBSCRIPTION),
        ({"type": "variable-subscription"}, ProductKind.SUBSCRIPTION),
        ({"type": "pw-gift-card", "virtual": True}, ProductKind.GIFT_CARD),
    ],
)
def test_product_kind(product: dict[str, Any], kind: ProductKind) -> None:
    assert tx.product_facts(product).kind is kind


def test_variation_inherits_subscription_type_and_tags() -> None:
    parent = {"type": "variable-subscription", "tags": [{"name": "final-sale"}]}
    facts = tx.product_facts({"type": "subscription_variation", "virtual": True}, parent)
    assert facts.kind is ProductKind.SUBSCRIPTION and facts.tags == ("final-sale",)


def test_digital_usage_from_downloads_remaining() -> None:
    facts = tx.ProductFacts(kind=ProductKind.DIGITAL, download_limit=5)
    item = {"id": 1, "product_id": 87, "variation_id": 0}
    rows = [
        {"order_id": 723, "product_id": 87, "downloads_remaining": "3", "access_expires": "never"},
        {"order_id": 999, "product_id": 87, "downloads_remaining": "5"},
    ]
    usage = tx.digital_usage(facts, rows, "723", item)
    assert (usage.downloads, usage.download_limit, usage.accessed) == (2, 5, True)


def test_digital_usage_is_unknown_when_unlimited_or_not_listed() -> None:
    item = {"id": 1, "product_id": 87, "variation_id": 0}
    unlimited = tx.digital_usage(
        tx.ProductFacts(kind=ProductKind.DIGITAL),
        [{"order_id": 723, "product_id": 87, "downloads_remaining": "unlimited"}],
        "723",
        item,
    )
    assert (unlimited.downloads, unlimited.accessed) == (None, None)
    gone = tx.digital_usage(tx.ProductFacts(kind=ProductKind.DIGITAL, download_limit=3), [], "723", item)
    assert (gone.downloads, gone.download_limit) == (None, 3)


def test_order_lines_from_the_fixture(fixture_json: Load) -> None:
    order = fixture_json("rest_v3_get_order_response.json")
    first, second = order["line_items"]
    line = tx.order_line(first, 1, "USD", tx.ProductFacts(), None)
    assert (line.line_id, line.quantity, line.unit_price, line.tax, line.product_id) == ("315", 1, 300, 23, "93")
    variation = tx.order_line(second, 1, "USD", tx.ProductFacts(), None)
    assert (variation.product_id, variation.sku, variation.unit_price, variation.tax) == ("23", "Bar3", 1200, 90)


def test_refund_lines_point_at_the_order_line(fixture_json: Load) -> None:
    refund = fixture_json("rest_v3_list_refunds_response.json")[1]
    [item] = refund["line_items"]
    assert tx.refund_item_origin(item) == "311"
    line = tx.order_line(item, 1, "USD", tx.ProductFacts(), None, line_id=tx.refund_item_origin(item))
    assert (line.line_id, line.quantity, line.unit_price, line.tax) == ("311", 1, 900, 0)
    assert tx.refunded_quantities(fixture_json("rest_v3_list_refunds_response.json")) == {"311": 1}


def test_refund_totals_of_the_order(fixture_json: Load) -> None:
    refunds = fixture_json("rest_v3_list_orders_response.json")[1]["refunds"]
    assert tx.refund_total(refunds, "USD") == 1900
    assert tx.refund_total(refunds, "USD", before=726) == 900


def test_refund_payload_never_moves_money_unless_asked(fixture_json: Load) -> None:
    order = fixture_json("rest_v3_get_order_response.json")
    lines = [Line(line_id="315", quantity=1, unit_price=300, tax=23), Line(line_id="316", quantity=1, unit_price=1200)]
    body = tx.refund_payload(
        amount=2523,
        currency="USD",
        reason="damaged",
        lines=lines,
        shipping=1000,
        order=order,
        meta_data={tx.HUB_ID_META: "rf_1", "empty": ""},
        api_refund=False,
        restock=False,
    )
    assert body["api_refund"] is False and body["amount"] == "25.23"
    assert body["meta_data"] == [{"key": "_refund_hub_id", "value": "rf_1"}]
    assert body["line_items"] == [
        {"id": 315, "quantity": 1, "refund_total": "3.00", "refund_tax": [{"id": 75, "refund_total": "0.23"}]},
        {"id": 316, "quantity": 1, "refund_total": "12.00"},
        {"id": 317, "quantity": 0, "refund_total": "10.00"},
    ]


def test_amounts_in_a_zero_decimal_currency(fixture_json: Load) -> None:
    assert tx.minor("1500", "JPY") == 1500 and tx.minor("1500.00", "JPY") == 1500
    assert tx.minor("-9.00", "USD") == 900 and tx.minor("", "USD") == 0
    with pytest.raises(ValueError):
        tx.minor("12.345", "USD")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("It arrived damaged", ReasonCode.DAMAGED),
        ("never arrived", ReasonCode.NOT_RECEIVED),
        ("wrong size", ReasonCode.WRONG_ITEM),
        ("Too small, bad fit", ReasonCode.SIZE_OR_FIT),
        ("I changed my mind", ReasonCode.CHANGED_MIND),
        ("", ReasonCode.OTHER),
    ],
)
def test_reason_codes(text: str, code: ReasonCode) -> None:
    assert tx.reason_code(text) is code
