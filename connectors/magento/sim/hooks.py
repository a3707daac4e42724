"""Adobe's push side, for the simulator: signed I/O Events CloudEvents and signed Commerce Webhooks.

Signed with the process's pooled key pairs (``signing``): two for I/O Events, as Adobe signs with
two, one for Commerce Webhooks; ``public_pems`` are what the hub is configured with, and the I/O
Events keys are also served under the paths the deliveries name, like ``static.adobeioevents.com``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.magento.sim.signing import pooled_keys, public_pem, sign
from hub.sandbox.sender import SentWebhook, WebhookSender


class AdobeEvents:
    def __init__(self, sender: WebhookSender, *, provider_id: str, client_id: str) -> None:
        self.sender = sender
        self.provider_id = provider_id
        self.client_id = client_id
        *self.io_keys, self.webhook_key = pooled_keys(3)
        self.key_paths = [f"/prod/keys/pub-key-{uuid.uuid4()}.pem" for _ in self.io_keys]

    @property
    def public_pems(self) -> list[str]:
        return [public_pem(key) for key in self.io_keys]

    @property
    def webhook_public_pem(self) -> str:
        return public_pem(self.webhook_key)

    def pem_at(self, path: str) -> str | None:
        return next((public_pem(k) for p, k in zip(self.key_paths, self.io_keys, strict=True) if p == path), None)

    def cloudevent(self, event_name: str, value: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope Adobe I/O Events delivers (shape of Adobe's debugging sample)."""
        event_id = str(uuid.uuid4())
        return {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": f"urn:uuid:{self.provider_id}",
            "type": f"com.adobe.commerce.{event_name}",
            "datacontenttype": "application/json",
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "eventid": event_id,
            "event_id": event_id,
            "recipient_client_id": self.client_id,
            "recipientclientid": self.client_id,
            "data": {
                "key": str(uuid.uuid4()),
                "value": dict(value),
                "source": f"{self.provider_id}.sandbox",
                "_metadata": {
                    "commerceEdition": "Adobe Commerce",
                    "commerceVersion": "2.4.7",
                    "eventsClientVersion": "1.12.1",
                    "storeId": "1",
                    "websiteId": "1",
                    "storeGroupId": "1",
                },
            },
        }

    def io_headers(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "x-adobe-digital-signature-1": sign(self.io_keys[0], body),
            "x-adobe-digital-signature-2": sign(self.io_keys[1], body),
            "x-adobe-public-key1-path": self.key_paths[0],
            "x-adobe-public-key2-path": self.key_paths[1],
        }

    def send_io_event(self, url: str, event_name: str, value: Mapping[str, Any]) -> SentWebhook:
        body = json.dumps(self.cloudevent(event_name, value)).encode()
        return self.sender.send(url, body, self.io_headers(body))

    def webhook_headers(self, body: bytes, store_id: str) -> dict[str, str]:
        """A Commerce Webhooks call: the signature covers the base64-encoded body."""
        return {
            "Content-Type": "application/json",
            "x-adobe-commerce-webhook-signature": sign(self.webhook_key, base64.b64encode(body)),
            "x-refund-hub-store": store_id,
        }

    def send_webhook(self, url: str, event_name: str, data: Mapping[str, Any], store_id: str) -> SentWebhook:
        body = json.dumps({"eventName": event_name, "data": dict(data)}).encode()
        return self.sender.send(url, body, self.webhook_headers(body, store_id))
