"""The request bodies and query strings the hub sends, against Adobe's REST tutorial payloads."""

from __future__ import annotations

from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from hub.models import Line


def test_offline_refund_body_matches_the_tutorial(kit: Any) -> None:
    order = kit.load("rest_get_order_V1_orders_id_response.json")
    tutorial = kit.load("rest_post_V1_order_id_refund_request.json")
    line = Line(line_id="3", sku="WS12-M-Orange", quantity=1, unit_price=2200)
    body = bodies.creditmemo(
        order, lines=[line], shipping=0, total=2200, notify=True, comment=bodies.hub_comment("rf_1", "Refunded")
    )
    assert body["items"] == tutorial["items"]
    assert body["notify"] is tutorial["notify"]
    assert {k: body["arguments"][k] for k in ("shipping_amount", "adjustment_positive", "adjustment_negative")} == {
        k: tutorial["arguments"][k] for k in ("shipping_amount", "adjustment_positive", "adjustment_negative")
    }
    assert "isOnline" not in body and body["appendComment"] is True
    assert tf.hub_refund_id([body["comment"]]) == "rf_1"
    online = bodies.creditmemo(
        {**order, "total_paid": 165}, lines=[], shipping=0, total=1000, notify=False, comment="x", online=True
    )
    assert online["isOnline"] is True and online["arguments"]["adjustment_positive"] == 10.0
    assert all(item["qty"] == 0 for item in online["items"])
    whole = bodies.creditmemo(
        {**order, "total_paid": 165}, lines=[], shipping=0, total=16500, notify=False, comment="x"
    )
    assert whole["items"] == [] and whole["arguments"]["adjustment_positive"] == 0


def test_rma_decline_and_search_params() -> None:
    rma = {"entity_id": 3, "status": "pending", "items": [{"entity_id": 1, "status": "pending"}]}
    assert bodies.rma_declined(rma)["rmaDataObject"]["status"] == "denied"
    authorized = {**rma, "items": [{"entity_id": 1, "status": "authorized"}]}
    assert bodies.rma_declined(authorized)["rmaDataObject"]["items"][0]["status"] == "rejected"
    params = bodies.search(
        [[("updated_at", "2024-01-01 00:00:00", "gteq")]], sort=[("updated_at", "ASC")], page_size=10, page=2
    )
    assert params == {
        "searchCriteria[filter_groups][0][filters][0][field]": "updated_at",
        "searchCriteria[filter_groups][0][filters][0][value]": "2024-01-01 00:00:00",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "gteq",
        "searchCriteria[sortOrders][0][field]": "updated_at",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": "10",
        "searchCriteria[currentPage]": "2",
    }
