"""Builders of seeded records in Magento's REST shapes: orders, products, RMAs.

Amounts are given in minor units and stored as Magento's JSON numbers. A line spec is a dict with
``sku``, ``price`` (one unit, before tax) and optionally ``qty``, ``tax`` (row), ``discount`` (row),
``type`` (``simple`` | ``virtual`` | ``downloadable`` | ``giftcard``) and ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.magento.bodies import amount as number
from connectors.magento.sim.state import now


def order(
    next_id: Callable[[], int],
    lines: Sequence[Mapping[str, Any]],
    *,
    method: str,
    last_trans_id: str | None,
    currency: str,
    shipping: int,
    email: str,
    customer_id: int | None,
    products: Mapping[str, Mapping[str, Any]],
    gift_cards: Sequence[int] = (),
    store_credit: int = 0,
) -> dict[str, Any]:
    """An order as ``GET /V1/orders/{id}`` shows it. Adobe Commerce gift cards (``gift_cards``: the
    amount each paid) and store credit are subtracted before ``grand_total``, the payment's share."""
    order_id = next_id()
    items, subtotal, tax, discount = [], 0, 0, 0
    for spec in lines:
        qty = int(spec.get("qty", 1))
        product = products.get(spec["sku"], {})
        row, row_tax, row_discount = int(spec["price"]) * qty, int(spec.get("tax", 0)), int(spec.get("discount", 0))
        kind = spec.get("type") or product.get("type_id") or "simple"
        items.append(
            {
                "item_id": next_id(),
                "order_id": order_id,
                "sku": spec["sku"],
                "name": spec.get("name") or product.get("name") or spec["sku"],
                "product_id": product.get("id"),
                "product_type": kind,
                "is_virtual": int(kind in ("virtual", "downloadable")),
                "price": number(int(spec["price"]), currency),
                "row_total": number(row, currency),
                "tax_amount": number(row_tax, currency),
                "discount_amount": number(row_discount, currency),
                "qty_ordered": qty,
                "qty_invoiced": 0,
                "qty_refunded": 0,
                "qty_shipped": 0,
                "created_at": now(),
                "updated_at": now(),
            }
        )
        subtotal, tax, discount = subtotal + row, tax + row_tax, discount + row_discount
    grand = subtotal + tax - discount + shipping - sum(gift_cards) - store_credit
    made = {
        "entity_id": order_id,
        "increment_id": f"{order_id:09d}",
        "state": "new",
        "status": "pending",
        "created_at": now(),
        "updated_at": now(),
        "store_id": 1,
        "order_currency_code": currency,
        "base_currency_code": currency,
        "global_currency_code": currency,
        "customer_email": email,
        "customer_id": customer_id,
        "customer_is_guest": int(customer_id is None),
        "subtotal": number(subtotal, currency),
        "tax_amount": number(tax, currency),
        "discount_amount": number(-discount, currency),
        "shipping_amount": number(shipping, currency),
        "grand_total": number(grand, currency),
        "total_paid": 0,
        "total_invoiced": 0,
        "total_refunded": 0,
        "total_online_refunded": 0,
        "total_offline_refunded": 0,
        "shipping_refunded": 0,
        "is_virtual": int(all(i["is_virtual"] for i in items)),
        "items": items,
        "payment": {
            "entity_id": next_id(),
            "parent_id": order_id,
            "method": method,
            "last_trans_id": last_trans_id,
            "amount_ordered": number(grand, currency),
            "amount_paid": 0,
            "amount_refunded": 0,
            "additional_information": [method, ""],
        },
        "status_histories": [],
    }
    if gift_cards or store_credit:
        made["extension_attributes"] = credits(next_id, gift_cards, store_credit, currency)
    return made


def credits(next_id: Callable[[], int], gift_cards: Sequence[int], store_credit: int, currency: str) -> dict[str, Any]:
    """The order's extension attributes for gift card accounts and store credit (Adobe Commerce)."""
    ids = [next_id() for _ in gift_cards]
    cards = [
        {"id": i, "code": f"GC{i:08d}", "amount": number(a, currency), "base_amount": number(a, currency)}
        for i, a in zip(ids, gift_cards, strict=True)
    ]
    total = number(sum(gift_cards), currency)
    balance = number(store_credit, currency)
    return {
        "gift_cards": cards,
        "gift_cards_amount": total,
        "base_gift_cards_amount": total,
        "gift_cards_refunded": 0,
        "customer_balance_amount": balance,
        "base_customer_balance_amount": balance,
        "customer_balance_refunded": 0,
    }


def product(
    product_id: int,
    sku: str,
    *,
    type_id: str,
    name: str,
    price: int,
    currency: str,
    download_limit: int | None = None,
    returnable: bool | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": product_id,
        "sku": sku,
        "name": name,
        "type_id": type_id,
        "status": 1,
        "price": number(price, currency),
        "custom_attributes": [],
        "extension_attributes": {},
    }
    if returnable is not None:
        record["custom_attributes"].append({"attribute_code": "is_returnable", "value": "1" if returnable else "0"})
    if type_id == "downloadable":
        record["extension_attributes"]["downloadable_product_links"] = [
            {
                "id": product_id,
                "title": name,
                "number_of_downloads": download_limit or 0,
                "is_shareable": 0,
                "link_type": "url",
                "link_url": f"https://downloads.example.com/{sku}",
            }
        ]
    return record


def rma(
    next_id: Callable[[], int],
    source: Mapping[str, Any],
    quantities: Mapping[int, int],
    *,
    reason: str,
    status: str,
    comment: str,
) -> dict[str, Any]:
    rma_id = next_id()
    items = [
        {
            "entity_id": next_id(),
            "rma_entity_id": rma_id,
            "order_item_id": item_id,
            "qty_requested": qty,
            "qty_authorized": qty if status == "authorized" else 0,
            "qty_approved": 0,
            "qty_returned": 0,
            "reason": reason,
            "condition": "Unopened",
            "resolution": "Refund",
            "status": status,
        }
        for item_id, qty in quantities.items()
    ]
    return {
        "entity_id": rma_id,
        "increment_id": f"{rma_id:09d}",
        "order_id": source["entity_id"],
        "order_increment_id": source["increment_id"],
        "store_id": 1,
        "customer_id": source.get("customer_id"),
        "date_requested": now(),
        "customer_custom_email": source.get("customer_email"),
        "items": items,
        "status": status,
        "tracks": [],
        "comments": [
            {
                "comment": comment,
                "rma_entity_id": rma_id,
                "created_at": now(),
                "is_customer_notified": 1,
                "is_visible_on_front": 1,
                "is_admin": 0,
            }
        ]
        if comment
        else [],
    }
