"""Re-read a notice's Return or Refund through the Admin API with THAT store's token.

This is the trust step: the shop-domain header of a webhook is not signed, so a body replayed
under another installed shop's domain is looked up with that other shop's token, finds no such
return or refund (or one on a different order), and ends as ``Ignored`` with no money moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from connectors.shopify import queries
from connectors.shopify.admin import AdminClient
from connectors.shopify.config import AppSettings
from connectors.shopify.normalize import event_from_refund, request_from_return
from connectors.shopify.transformers import gid_tail
from hub.contracts import Notice, StoreContext, StoreDirectory
from hub.errors import ParseError
from hub.models import Event, Ignored
from hub.models.money import CurrencyError

Normalizer = Callable[[str, Mapping[str, Any], "str | None"], Event]
WHAT: dict[str, tuple[str, str, Normalizer]] = {
    "requested": (queries.RETURN_QUERY, "return", request_from_return),
    "recorded": (queries.REFUND_QUERY, "refund", event_from_refund),
}


def fetch(app: AppSettings, stores: StoreDirectory, store: StoreContext, notice: Notice) -> Event:
    if notice.kind not in WHAT or not notice.source_ref:
        return Ignored(reason=str(notice.hints.get("reason") or f"{notice.kind} needs no fetch"), topic=notice.topic)
    query, field, normalize = WHAT[notice.kind]
    with AdminClient(app, stores, store) as client:
        node = client.read(query, {"id": notice.source_ref}).get(field)
    if node is None:
        return Ignored(reason=f"no {field} {notice.source_ref} in {store.id}", topic=notice.topic)
    order_id = gid_tail((node.get("order") or {}).get("id"))
    if notice.order_id and order_id != notice.order_id:
        return Ignored(
            reason=f"{field} {notice.source_ref} belongs to order {order_id}, not {notice.order_id}", topic=notice.topic
        )
    try:
        event = normalize(store.id, node, notice.hints.get("delivery_id"))
    except (KeyError, TypeError, ValueError, ValidationError, CurrencyError) as exc:
        raise ParseError(f"Shopify {field} {notice.source_ref} could not be normalized: {exc}") from exc
    if isinstance(event, Ignored):
        return event.model_copy(update={"topic": notice.topic})
    return event
