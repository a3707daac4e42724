"""A Magento credit memo says exactly what was refunded (issue 19): the policy excluded one item of
the return, so the memo lists only the refunded item and its quantity — never every item with the
excluded one subtracted as an adjustment, which would tell Magento it was refunded too."""

from __future__ import annotations

from typing import Any

from hub.ledger import states
from tests.connectors.magento.test_magento_through_hub import Shops
from tests.connectors.magento.test_magento_through_hub import shops as shops  # the through-hub fixture

EXCLUDE_CLEARANCE = {"version": "t-clearance", "exclusions": {"skus": ["CLEAR-*"], "effect": "deny"}}


def test_the_offline_memo_lists_only_the_refunded_item(shops: Shops) -> None:
    shop = shops.open(policy=EXCLUDE_CLEARANCE)
    intent = shop.stripe.create_payment(4500, "USD")
    order = shop.magento.add_order(
        [{"sku": "TEE", "price": 2500, "qty": 1}, {"sku": "CLEAR-MUG", "price": 1000, "qty": 2}],
        last_trans_id=intent,
    )
    shop.magento.create_rma(order["entity_id"], reason="Changed my mind")
    shop.settle(until=lambda: "echo_matched" in shop.actions())

    refund = shop.refund()
    assert (refund.state, refund.approved_amount) == (states.WRITTEN_BACK, 2500)
    assert [r.amount for r in shop.stripe_refunds()] == [2500]
    (memo,) = shop.magento.creditmemos(order["entity_id"])
    assert [(i["sku"], i["qty"]) for i in memo["items"]] == [("TEE", 1)]
    assert (memo["adjustment_positive"], memo["adjustment_negative"]) == (0, 0)
    assert _minor(memo["grand_total"]) == 2500
    mug = next(i for i in shop.magento.order(order["entity_id"])["items"] if i["sku"] == "CLEAR-MUG")
    assert mug["qty_refunded"] == 0  # Magento still holds the excluded mugs as not refunded


def _minor(value: Any) -> int:
    return round(float(value) * 100)
