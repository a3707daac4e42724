"""The pure mappings between Shopify's shapes and the hub's."""

from __future__ import annotations

import json

import pytest

from connectors.shopify import transformers as t
from hub.contracts import Execution, Outcome, WriteBack
from hub.models import Line, ProductKind, ReasonCode

from .conftest import fixture_body

TX = "gid://shopify/OrderTransaction/1"


@pytest.mark.parametrize(
    "gateway,authorization,receipt,payment_id,expected",
    [
        ("shopify_payments", "abc123", {}, "c1.1", TX),
        ("bogus", "authorization-key", {}, "#1001.3", TX),
        ("stripe", "pi_3Nabc", {}, "c1.1", "pi_3Nabc"),
        ("stripe", "not-an-id", {"payment_intent": "pi_9"}, "c1.1", "pi_9"),
        ("stripe", None, {"charge": "ch_42"}, None, "ch_42"),
        ("stripe", None, {}, "c1.1", TX),
        ("paypal", "5O190127TN364715T", {}, "c1.1", "5O190127TN364715T"),
        ("paypal", None, {"transaction_id": "8AB12345"}, None, "8AB12345"),
        ("square", None, {"payment_id": "KkAkhdMs"}, None, "KkAkhdMs"),
        ("square", "sq-auth", {"payment_id": "x"}, None, "sq-auth"),
        ("some_app", None, {}, "c77.1", "c77.1"),
    ],
)
def test_payment_reference_per_gateway(
    gateway: str, authorization: str | None, receipt: dict[str, str], payment_id: str | None, expected: str
) -> None:
    assert t.payment_reference(gateway, authorization, receipt, payment_id, TX) == expected


def test_payment_reference_from_rest_transaction_fixture() -> None:
    """The REST/webhook transaction shape (``authorization``, ``receipt``, ``payment_id``) feeds the same rule."""
    for tx in json.loads(fixture_body("rest_get_order_transactions_response.json"))["transactions"]:
        gid = tx["admin_graphql_api_id"]
        assert t.payment_reference(tx["gateway"], tx["authorization"], tx["receipt"], tx["payment_id"], gid) == gid
        as_stripe = t.payment_reference(
            "stripe", tx["authorization"], {"payment_intent": "pi_1"}, tx["payment_id"], gid
        )
        assert as_stripe == "pi_1"


def test_receipt_json_as_string_or_object() -> None:
    assert t.receipt('{"payment_intent": "pi_1"}') == {"payment_intent": "pi_1"}
    assert t.receipt({"a": 1}) == {"a": 1}
    assert t.receipt("not json") == {} and t.receipt(None) == {}


@pytest.mark.parametrize(
    "node,kind",
    [
        ({"isGiftCard": True, "requiresShipping": False}, ProductKind.GIFT_CARD),
        (
            {"sellingPlan": {"sellingPlanId": "gid://shopify/SellingPlan/1"}, "requiresShipping": True},
            ProductKind.SUBSCRIPTION,
        ),
        ({"requiresShipping": False}, ProductKind.DIGITAL),
        ({"requiresShipping": True}, ProductKind.PHYSICAL),
    ],
)
def test_product_kind(node: dict[str, object], kind: ProductKind) -> None:
    assert t.product_kind(node) is kind


def test_reason_code_takes_the_commonest() -> None:
    assert t.reason_code(["SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "DEFECTIVE"]) is ReasonCode.SIZE_OR_FIT
    assert t.reason_code(["WRONG_ITEM"]) is ReasonCode.WRONG_ITEM
    assert t.reason_code(["SOMETHING_NEW"]) is ReasonCode.OTHER
    assert t.reason_code([]) is ReasonCode.OTHER


def test_line_prorates_tax_and_reads_shop_money() -> None:
    money = {
        "shopMoney": {"amount": "25.00", "currencyCode": "USD"},
        "presentmentMoney": {"amount": "23.00", "currencyCode": "EUR"},
    }
    node = {
        "id": "gid://shopify/LineItem/7",
        "title": "Tee",
        "quantity": 3,
        "requiresShipping": True,
        "discountedUnitPriceAfterAllDiscountsSet": money,
        "taxLines": [{"priceSet": {"shopMoney": {"amount": "1.00", "currencyCode": "USD"}}}],
    }
    line = t.line(node, 2)
    assert (line.line_id, line.unit_price, line.tax, line.quantity) == ("7", 2500, 66, 2)


def test_hub_marker_round_trip() -> None:
    note = t.hub_note("rf_abc-1", "Customer return")
    assert note.endswith("[refund-hub:rf_abc-1]")
    assert t.hub_refund_id_in(note) == "rf_abc-1"
    assert t.hub_refund_id_in("Things were damaged") is None


def _execution(**changes: object) -> Execution:
    base = dict(
        hub_refund_id="rf_1",
        idempotency_key="key-1",
        payment_reference=TX,
        amount=2700,
        currency="USD",
        order_id="55",
        note="Damaged",
        lines=(Line(line_id="7", quantity=1, unit_price=2500, tax=200),),
        payment_extra={
            "gateway": "shopify_payments",
            "order_id": "gid://shopify/Order/55",
            "shop_amount": "6800",
            "presentment_amount": "6800",
            "presentment_currency": "USD",
        },
    )
    base.update(changes)
    return Execution(**base)  # type: ignore[arg-type]


def test_refund_input_moves_money_on_the_parent_transaction() -> None:
    body = t.refund_input(_execution(), notify=True)
    assert body["orderId"] == "gid://shopify/Order/55"
    assert body["transactions"] == [
        {
            "orderId": "gid://shopify/Order/55",
            "parentId": TX,
            "gateway": "shopify_payments",
            "kind": "REFUND",
            "amount": "27.00",
        }
    ]
    assert body["refundLineItems"] == [
        {"lineItemId": "gid://shopify/LineItem/7", "quantity": 1, "restockType": "NO_RESTOCK"}
    ]
    assert t.hub_refund_id_in(body["note"]) == "rf_1" and "currency" not in body


def test_refund_input_uses_presentment_currency_when_it_differs() -> None:
    extra = {
        "gateway": "shopify_payments",
        "shop_amount": "10000",
        "presentment_amount": "9200",
        "presentment_currency": "EUR",
    }
    full = t.refund_input(_execution(amount=10000, payment_extra=extra), notify=False)
    assert (full["currency"], full["transactions"][0]["amount"]) == ("EUR", "92.00")
    part = t.refund_input(_execution(amount=2500, shipping=500, payment_extra=extra), notify=False)
    assert part["transactions"][0]["amount"] == "23.00" and part["shipping"] == {"amount": "4.60"}


def test_record_input_moves_no_money() -> None:
    writeback = WriteBack(
        hub_refund_id="rf_9",
        order_id="55",
        source_ref="gid://shopify/Return/3",
        amount=2700,
        currency="USD",
        outcome=Outcome.SUCCEEDED,
        route="gateway:stripe",
        gateway="stripe",
        gateway_refund_id="re_123",
        lines=(Line(line_id="7", quantity=1, unit_price=2500),),
    )
    body = t.record_input(writeback)
    assert body["transactions"] == [] and body["notify"] is True  # Shopify tells the customer
    assert t.record_input(writeback, notify=False)["notify"] is False
    assert "re_123" in body["note"] and t.hub_refund_id_in(body["note"]) == "rf_9"
    metafield = t.record_metafield(writeback, "2026-05-01T00:00:00Z")
    assert (metafield["namespace"], metafield["key"], metafield["type"]) == ("refund_hub", "refund_rf_9", "json")
    assert json.loads(metafield["value"])["gateway_refund_id"] == "re_123"


def _refund(*statuses: str) -> dict[str, object]:
    money = {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}}
    return {
        "id": "gid://shopify/Refund/1",
        "transactions": {"nodes": [{"kind": "REFUND", "status": s, "amountSet": money} for s in statuses]},
    }


@pytest.mark.parametrize(
    "statuses,outcome,amount",
    [
        (("SUCCESS",), Outcome.SUCCEEDED, 1000),
        (("PENDING",), Outcome.PENDING, 1000),
        (("SUCCESS", "PENDING"), Outcome.PENDING, 2000),
        (("FAILURE",), Outcome.FAILED, None),
        (("ERROR",), Outcome.UNKNOWN, None),
        (("SUCCESS", "FAILURE"), Outcome.UNKNOWN, 1000),
        ((), Outcome.UNKNOWN, None),
    ],
)
def test_refund_result_from_transactions(statuses: tuple[str, ...], outcome: Outcome, amount: int | None) -> None:
    result = t.refund_result(_refund(*statuses))
    assert (result.outcome, result.amount, result.gateway_refund_id) == (outcome, amount, "gid://shopify/Refund/1")


def test_decline_note_is_capped_for_shopify() -> None:
    body = t.decline_input("gid://shopify/Return/3", "x" * 900)
    assert len(body["declineNote"]) == 500 and body["notifyCustomer"] is True


def test_tax_inclusive_line_keeps_what_was_paid() -> None:
    node = {
        "id": "gid://shopify/LineItem/8",
        "title": "Mug",
        "quantity": 3,
        "requiresShipping": True,
        "discountedUnitPriceAfterAllDiscountsSet": {"shopMoney": {"amount": "12.00", "currencyCode": "EUR"}},
        "taxLines": [{"priceSet": {"shopMoney": {"amount": "5.75", "currencyCode": "EUR"}}}],
    }
    for quantity in (1, 2, 3):
        item = t.line(node, quantity, taxes_included=True)
        assert item.total == 1200 * quantity
        assert abs(item.tax - 575 * quantity / 3) < quantity
