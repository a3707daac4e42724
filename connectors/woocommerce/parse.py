"""What a verified WooCommerce delivery (or a polled order) asks the hub to look at: the notices.

An order body lists every refund of the order, old and new (a merged delivery can carry several
new ones), so each refund becomes a ``recorded`` notice keyed by its refund id and the ledger
drops the ones it already has. An order in the store's refund-request status, or a configured
request action, becomes a ``requested`` notice keyed by the order.

An authentic body can still be anything (a signed body is only as careful as the store that
signed it): whatever does not read as WooCommerce's JSON — deep nesting, a 5 000-digit number, a
lone surrogate, a list where an object belongs, a wrong type in a field — is a ``ParseError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from connectors.woocommerce.settings import StoreOptions
from connectors.woocommerce.transformers import normalize_status
from connectors.woocommerce.verify import PING_TOPIC, REFUND_CREATED
from hub.contracts import Delivery, Notice
from hub.errors import UNREADABLE as _UNREADABLE
from hub.errors import ParseError

ORDER_REFUNDED = "action.woocommerce_order_refunded"


def refund_ref(refund_id: Any) -> str:
    return f"refund:{refund_id}"


def refund_of(source_ref: str) -> str | None:
    """The WooCommerce refund id a source reference names, if it names one."""
    kind, _, value = source_ref.partition(":")
    return value if kind == "refund" and value.isdigit() else None


def request_ref(order_id: Any) -> str:
    """One refund request per order: a repeated request after a decision is the same request."""
    return f"request:{order_id}"


# what reading a foreign shape raises (pydantic's ValidationError and CurrencyError are ValueErrors)
UNREADABLE = _UNREADABLE
# a ``\\uD800``-``\\uDFFF`` escape, or such a code point written raw: where a lone surrogate may hide
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def read_json(raw: bytes) -> Any:
    """A body as JSON; ``ValueError``/``RecursionError`` for what is not JSON, and
    ``UnicodeError`` for text with a lone surrogate (no database stores it, no store sends it)."""
    body = json.loads(raw)
    if _SURROGATE.search(raw):
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    return body


def parse(delivery: Delivery, options: Callable[[str], StoreOptions]) -> list[Notice]:
    """The notices of a delivery; ``options`` gives a store's settings by store id."""
    if delivery.topic == PING_TOPIC:
        return [ignored(delivery.store_id, delivery.topic, "webhook creation ping")]
    try:
        body = read_json(delivery.body)
        return notices_for(delivery.store_id, delivery.topic, body, options(delivery.store_id))
    except UNREADABLE as exc:
        raise ParseError(f"unreadable WooCommerce {delivery.topic} delivery: {exc!r}") from exc


def notices_for(store_id: str, topic: str, body: Any, options: StoreOptions) -> list[Notice]:
    """Notices in a verified delivery body; raises ``ValueError``/``KeyError`` on a foreign shape."""
    if not isinstance(body, dict):
        raise ValueError("a WooCommerce webhook body is a JSON object")
    if "action" in body:
        return _action_notices(store_id, f"action.{body['action']}".lower(), body.get("arg"), options)
    if topic in ("order.updated", "order.created", "poll"):
        return order_notices(store_id, topic, body, options)
    return [ignored(store_id, topic, f"topic {topic} is not about refunds")]


def order_notices(store_id: str, topic: str, order: Mapping[str, Any], options: StoreOptions) -> list[Notice]:
    order_id = str(int(order["id"]))
    found = [
        recorded(store_id, topic, options, order_id=order_id, refund_id=str(r["id"]))
        for r in order.get("refunds") or ()
    ]
    status = normalize_status(order.get("status"))
    if options.request_status and status == options.request_status:
        found.append(requested(store_id, topic, order_id, status=status))
    return found or [ignored(store_id, topic, f"order {order_id} ({status}): no refund and no refund request")]


def _action_notices(store_id: str, topic: str, arg: Any, options: StoreOptions) -> list[Notice]:
    if topic == REFUND_CREATED:
        return [recorded(store_id, topic, options, order_id=None, refund_id=str(int(arg)))]
    if topic == ORDER_REFUNDED:
        # only the first hook argument (the order) travels: fetch takes the order's newest refund
        return [recorded(store_id, topic, options, order_id=str(int(arg)), refund_id=None)]
    if options.request_action and topic == options.request_action:
        return [requested(store_id, topic, str(int(arg["order_id"] if isinstance(arg, dict) else arg)), via="action")]
    return [ignored(store_id, topic, f"action {topic} is not about refunds")]


def recorded(
    store_id: str, topic: str, options: StoreOptions, *, order_id: str | None, refund_id: str | None
) -> Notice:
    """A refund exists on the platform; the hub may execute a manual one if the store says so."""
    hints = {"refund_id": refund_id, "execute_manual_refunds": options.execute_manual_refunds}
    return Notice(
        kind="recorded",
        store_id=store_id,
        topic=topic,
        order_id=order_id,
        source_ref=refund_ref(refund_id) if refund_id else None,
        hints=hints,
    )


def requested(store_id: str, topic: str, order_id: str, **hints: Any) -> Notice:
    return Notice(
        kind="requested",
        store_id=store_id,
        topic=topic,
        order_id=order_id,
        source_ref=request_ref(order_id),
        hints=hints,
    )


def ignored(store_id: str, topic: str, reason: str) -> Notice:
    return Notice(kind="ignored", store_id=store_id, topic=topic, hints={"reason": reason})
