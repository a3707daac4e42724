"""Notices from a verified Adobe Commerce push (an I/O Events CloudEvent or a Commerce Webhooks payload).

Each saved entity (credit memo, RMA, order) becomes the notices ``fetch`` re-reads it by; polling
(``poll``) makes the same notices from what it lists. Only the fields the notices need are read,
and each is checked for its type: whatever else a body holds, it ends as ``ParseError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.magento.transformers import RMA_STATUS_KINDS, order_request_marks
from connectors.magento.verify import event_topic, json_object, text_field
from hub.contracts import Delivery, Notice, StoreDirectory
from hub.errors import ParseError

# Commerce event name -> the entity the hub re-reads for it.
TOPIC_ENTITIES: dict[str, str] = {
    "observer.sales_order_creditmemo_save_after": "creditmemo",
    "observer.sales_order_creditmemo_save_commit_after": "creditmemo",
    "observer.rma_save_after": "rma",
    "observer.rma_save_commit_after": "rma",
    "observer.sales_order_save_after": "order",
    "observer.sales_order_save_commit_after": "order",
}


def parse(stores: StoreDirectory, delivery: Delivery) -> list[Notice]:
    body = json_object(delivery.body, ParseError)
    if "specversion" in body:
        topic = event_topic(text_field(body, ("type",), ParseError))
        data = body.get("data")
        entity = data.get("value") if isinstance(data, dict) else None
    else:
        topic = delivery.topic
        entity = _webhook_entity(body, TOPIC_ENTITIES.get(topic, ""))
    if not isinstance(entity, dict):
        raise ParseError(f"{topic}: no entity in the delivery")
    store = stores.get(delivery.store_id)
    return notices(delivery.store_id, topic, entity, store.settings if store else {})


def _webhook_entity(body: Mapping[str, Any], name: str) -> Any:
    data: Mapping[str, Any] = body["data"] if isinstance(body.get("data"), dict) else body
    for key in (name, "data_object", "object"):
        if key and isinstance(data.get(key), dict):
            return data[key]
    return data


def _id(entity: Mapping[str, Any], name: str) -> str:
    return text_field(entity, (name,), ParseError)


def _text(entity: Mapping[str, Any], name: str) -> str:
    value = entity.get(name)
    if value is not None and not isinstance(value, str):
        raise ParseError(f"{name} is not text")
    return value or ""


def _records(entity: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """A list of objects (an order's ``items``, ``status_histories``), or ParseError."""
    value = entity.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ParseError(f"{name} is not a list of objects")
    return value


def notices(store_id: str, topic: str, entity: Mapping[str, Any], settings: Mapping[str, Any]) -> list[Notice]:
    """Notices for one saved entity; ``fetch`` re-reads it by ``hints`` before anything moves.

    Adobe's credit memo and order payloads carry no ``entity_id``, so both are named by their
    ``increment_id`` (an order's entity id is also found in its items' ``order_id``).
    """
    kind = TOPIC_ENTITIES.get(topic)
    entity_id, number, order_id = _id(entity, "entity_id"), _id(entity, "increment_id"), _id(entity, "order_id")
    if kind == "creditmemo" and (entity_id or number):
        return [
            Notice(
                "recorded",
                store_id,
                topic,
                order_id or None,
                f"creditmemo:{number or entity_id}",
                {"entity": "creditmemo", "id": entity_id, "increment_id": number},
            )
        ]
    if kind == "rma" and entity_id:
        status = _id(entity, "status") or "pending"
        return [
            Notice(
                RMA_STATUS_KINDS.get(status, "requested"),
                store_id,
                topic,
                order_id or None,
                f"rma:{entity_id}",
                {"entity": "rma", "id": entity_id},
            )
        ]
    if kind == "order" and (entity_id or number):
        items = _records(entity, "items") or [{}]
        order_id = entity_id or _id(items[0], "order_id")
        histories = [  # checked, then as they came: fetch makes the same source refs from the order
            {"entity_id": h.get("entity_id") if _id(h, "entity_id") else None, "comment": _text(h, "comment")}
            for h in _records(entity, "status_histories")
        ]
        order = {"increment_id": number, "entity_id": entity_id, "status": _id(entity, "status")}
        marks = order_request_marks(
            {**order, "status_histories": histories},
            settings.get("refund_request_status"),
            settings.get("refund_request_comment_marker"),
        )
        hints = {"entity": "order", "id": order_id, "increment_id": number}
        return [
            Notice("requested", store_id, topic, order_id or None, mark["source_ref"], {**hints, **mark})
            for mark in marks
        ] or [Notice("ignored", store_id, topic, order_id or None)]
    return [Notice("ignored", store_id, topic, order_id or None)]
