"""What Adobe Commerce pushes to ``POST /webhooks/magento``: authenticity, store, topic, notices.

Two channels share the URL and are told apart by their signature headers:

- **Adobe I/O Events** (``x-adobe-digital-signature-1/2``): a CloudEvents envelope whose
  ``data.value`` is the saved entity. The store is the one whose settings name the event provider
  (``io_events_provider_id``, the ``urn:uuid:`` in ``source``) or, failing that, the registration's
  client id (``io_events_client_id`` = ``recipient_client_id``, also checked when set). Dedupe key:
  the CloudEvents ``event_id`` (``id`` as fallback).
- **Adobe Commerce Webhooks** (``x-adobe-commerce-webhook-signature``): the hook's own payload
  (default ``{"eventName": ..., "data": {"<object>": {...}}}``). The hook must be configured with
  the header ``x-refund-hub-store: <store id>`` (or the URL with ``?store=<store id>``), and may
  name its topic with ``x-refund-hub-topic``. Dedupe key: a hash of the body (no event id exists).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from connectors.magento import signatures
from connectors.magento.transformers import RMA_STATUS_KINDS, order_request_marks
from hub.contracts import Delivery, Inbound, Notice, StoreContext, StoreDirectory, Verified
from hub.errors import MalformedBody, ParseError, SignatureInvalid

STORE_HEADER = "x-refund-hub-store"
TOPIC_HEADER = "x-refund-hub-topic"

# Commerce event name -> the entity the hub re-reads for it.
TOPIC_ENTITIES: dict[str, str] = {
    "observer.sales_order_creditmemo_save_after": "creditmemo",
    "observer.sales_order_creditmemo_save_commit_after": "creditmemo",
    "observer.rma_save_after": "rma",
    "observer.rma_save_commit_after": "rma",
    "observer.sales_order_save_after": "order",
    "observer.sales_order_save_commit_after": "order",
}
EVENT_NAME = re.compile(r"(?:observer|plugin)\.[A-Za-z0-9_.]+$")


def event_topic(event_type: Any) -> str:
    """``com.adobe.commerce.observer.rma_save_after`` -> ``observer.rma_save_after``."""
    found = EVENT_NAME.search(str(event_type or ""))
    return found.group(0) if found else str(event_type or "unknown")


def _json(body: bytes, error: type[Exception]) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise error("body is not JSON") from None
    if not isinstance(data, dict):
        raise error("body is not a JSON object")
    return data


def verify(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    if signatures.WEBHOOK_SIGNATURE in inbound.headers:
        return _verify_webhook(stores, inbound)
    if signatures.io_signatures(inbound.headers):
        return _verify_io_event(settings, stores, inbound)
    raise SignatureInvalid("no Adobe signature header")


def _verify_io_event(settings: Mapping[str, Any], stores: StoreDirectory, inbound: Inbound) -> Verified:
    fetcher = signatures.fetcher_for(settings)
    shared = signatures.pem_list(settings.get("io_events_public_keys"))
    shared += fetcher.keys(inbound.headers) if fetcher else []
    own = {store.id: signatures.pem_list(store.settings.get("io_events_public_keys")) for store in stores.all()}
    candidates = dict.fromkeys(shared + [pem for pems in own.values() for pem in pems])
    signer = signatures.matching_key(candidates, signatures.io_signatures(inbound.headers), inbound.body)
    if signer is None:
        raise SignatureInvalid("no I/O Events signature verifies with the configured keys")
    envelope = _json(inbound.body, MalformedBody)
    store = _io_store(stores, envelope)
    if signer not in shared and signer not in own.get(store.id, []):
        raise SignatureInvalid("signed with a key of another store")
    expected = store.settings.get("io_events_client_id")
    recipient = envelope.get("recipient_client_id") or envelope.get("recipientclientid")
    if expected and recipient != expected:
        raise SignatureInvalid("recipient_client_id is not this store's registration")
    event_id = envelope.get("event_id") or envelope.get("eventid") or envelope.get("id")
    if not event_id:
        raise MalformedBody("CloudEvent without id")
    return Verified(store_id=store.id, topic=event_topic(envelope.get("type")), dedupe_key=f"io:{event_id}")


def _io_store(stores: StoreDirectory, envelope: Mapping[str, Any]) -> StoreContext:
    provider = str(envelope.get("source") or "").removeprefix("urn:uuid:")
    recipient = envelope.get("recipient_client_id") or envelope.get("recipientclientid")
    every = stores.all()
    by_provider = [s for s in every if provider and s.settings.get("io_events_provider_id") == provider]
    if by_provider:
        return by_provider[0]
    by_client = [s for s in every if recipient and s.settings.get("io_events_client_id") == recipient]
    if len(by_client) == 1:
        return by_client[0]
    if by_client:
        raise MalformedBody("several stores share this I/O Events registration; set io_events_provider_id")
    raise MalformedBody("no store is configured for this I/O Events provider or registration")


def _verify_webhook(stores: StoreDirectory, inbound: Inbound) -> Verified:
    store_id = inbound.headers.get(STORE_HEADER) or inbound.query.get("store")
    store = stores.get(store_id) if store_id else None
    if store is None:
        raise SignatureInvalid("Commerce webhook for an unknown store")
    pems = signatures.pem_list(store.settings.get("webhook_public_keys"))
    if signatures.webhook_key(pems, inbound.headers, inbound.body) is None:
        raise SignatureInvalid("Commerce webhook signature does not verify")
    body = _json(inbound.body, MalformedBody)
    topic = inbound.headers.get(TOPIC_HEADER) or body.get("eventName") or "commerce_webhook"
    digest = hashlib.sha256(inbound.body).hexdigest()
    return Verified(store_id=store.id, topic=str(topic), dedupe_key=f"cw:{store.id}:{digest}")


def parse(stores: StoreDirectory, delivery: Delivery) -> list[Notice]:
    body = _json(delivery.body, ParseError)
    if "specversion" in body:
        topic = event_topic(body.get("type"))
        entity = (body.get("data") or {}).get("value")
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


def notices(store_id: str, topic: str, entity: Mapping[str, Any], settings: Mapping[str, Any]) -> list[Notice]:
    """Notices for one saved entity; ``fetch`` re-reads it by ``hints`` before anything moves.

    Adobe's credit memo and order payloads carry no ``entity_id``, so both are named by their
    ``increment_id`` (an order's entity id is also found in its items' ``order_id``).
    """
    kind = TOPIC_ENTITIES.get(topic)
    entity_id = str(entity.get("entity_id") or "")
    number = str(entity.get("increment_id") or "")
    if kind == "creditmemo" and (entity_id or number):
        order_id = str(entity.get("order_id") or "") or None
        return [
            Notice(
                "recorded",
                store_id,
                topic,
                order_id,
                f"creditmemo:{number or entity_id}",
                {"entity": "creditmemo", "id": entity_id, "increment_id": number},
            )
        ]
    if kind == "rma" and entity_id:
        status = str(entity.get("status") or "pending")
        order_id = str(entity.get("order_id") or "") or None
        return [
            Notice(
                RMA_STATUS_KINDS.get(status, "requested"),
                store_id,
                topic,
                order_id,
                f"rma:{entity_id}",
                {"entity": "rma", "id": entity_id},
            )
        ]
    if kind == "order" and (entity_id or number):
        items = entity.get("items") or [{}]
        order_id = entity_id or str(items[0].get("order_id") or "")
        marks = order_request_marks(
            entity, settings.get("refund_request_status"), settings.get("refund_request_comment_marker")
        )
        hints = {"entity": "order", "id": order_id, "increment_id": number}
        return [
            Notice("requested", store_id, topic, order_id or None, mark["source_ref"], {**hints, **mark})
            for mark in marks
        ] or [Notice("ignored", store_id, topic, order_id or None)]
    return [Notice("ignored", store_id, topic, str(entity.get("order_id") or "") or None)]
