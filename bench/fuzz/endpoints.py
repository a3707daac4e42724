"""The webhook endpoints under fuzz and how each platform signs a delivery to it.

Each ``Endpoint`` knows its path, the content type its platform sends, its official samples
(``samples``), how to bind a sample to this run's store or account (``prepare``: the Magento
provider and client ids, a fresh event id), the headers of a delivery signed like the platform
signs it (the plugin simulators' own signing: ``connectors/*/sim``, ``gateways/*/sim``), a forged
signature, the unsigned delivery, and the header tricks worth trying on it.

``identity_ok`` says whether a body still carries what the platform always puts in an event of
its kind (the ids and type the verifier keys on): a body without them is not one the platform
would send, so a 4xx for it is documented behaviour, not a lost delivery. ``framing_ok`` says the
same of the bytes around the JSON value."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.fuzz import samples as official
from bench.fuzz.samples import OTHER_SHOP, Sample
from bench.fuzz.world import World
from hub.testing.signing import hmac_base64, hmac_hex

SIGNED, FORGED, UNSIGNED = "signed", "forged", "unsigned"
HeaderList = list[tuple[str, str]]
# ("drop", name) | ("set", name, value) | ("add", name, value): applied after signing
Edit = tuple[str, ...]


@dataclass
class Endpoint:
    name: str
    path: str
    content_type: str
    world: World
    samples: tuple[Sample, ...] = ()
    signature_headers: tuple[str, ...] = ()
    routing_headers: tuple[str, ...] = ()  # unsigned headers the hub reads (topic, shop, store, key paths)
    counter: int = 0

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        """The sample's data bound to this run, and its meta (topic...)."""
        self.counter += 1
        return sample.fresh(), dict(sample.meta)

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        raise NotImplementedError

    def identity_ok(self, data: dict[str, Any], meta: dict[str, str]) -> bool:
        return True

    def framing_ok(self, body: bytes) -> bool:
        return True

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        """Header tricks: (label, edits). Routing headers dropped, duplicated, oversized, odd."""
        found: list[tuple[str, list[Edit]]] = []
        for name in (*self.routing_headers, *self.signature_headers):
            found.append((f"drop {name}", [("drop", name)]))
            found.append((f"duplicate {name}", [("add", name, rng.choice(ODD_VALUES))]))
            found.append((f"oversized {name}", [("set", name, "A" * rng.choice((300, 8192, 65536)))]))
            found.append((f"odd {name}", [("set", name, rng.choice(ODD_VALUES))]))
        return found


ODD_VALUES = ("", " ", "app/uninstalled", "x" * 256, "caf\u00e9", "a\tb", "../../etc/passwd", "null", "[]", "0", "%00")


def _edit(headers: HeaderList, edits: list[Edit]) -> HeaderList:
    out = list(headers)
    for edit in edits:
        op, name = edit[0], edit[1]
        if op == "drop":
            out = [(k, v) for k, v in out if k.lower() != name.lower()]
        elif op == "set":
            out = [(k, v) for k, v in out if k.lower() != name.lower()] + [(name, edit[2])]
        else:
            out.append((name, edit[2]))
    return out


apply_edits = _edit


class Shopify(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "shopify",
            "/webhooks/shopify",
            "application/json",
            world,
            official.shopify(),
            ("X-Shopify-Hmac-Sha256",),
            ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Event-Id"),
        )
        self.secret = str(world.config.connectors["shopify"]["api_secret"])
        self.shop = world.store_of("shopify")

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        data, meta = super().prepare(sample, rng)
        if meta.get("shop") == "{own}":
            meta["shop"] = self.shop
            data = _replace_text(data, "{own}", self.shop)
        meta["event_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        return data, meta

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        secret = self.secret if mode == SIGNED else "not-the-app-secret"
        found = [
            ("X-Shopify-Topic", meta["topic"]),
            ("X-Shopify-Shop-Domain", meta["shop"]),
            ("X-Shopify-API-Version", "2026-07"),
            ("X-Shopify-Event-Id", meta["event_id"]),
            ("X-Shopify-Webhook-Id", meta["event_id"][::-1]),
            ("X-Shopify-Triggered-At", "2026-07-01T00:00:00.000Z"),
        ]
        if mode != UNSIGNED:
            found.append(("X-Shopify-Hmac-Sha256", hmac_base64(secret, body)))
        return found

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        return [
            *super().tricks(rng, meta),
            (
                "swapped topic app/uninstalled + another shop",
                [("set", "X-Shopify-Topic", "app/uninstalled"), ("set", "X-Shopify-Shop-Domain", OTHER_SHOP)],
            ),
            ("swapped topic app/uninstalled, own shop", [("set", "X-Shopify-Topic", "app/uninstalled")]),
            ("swapped topic shop/redact", [("set", "X-Shopify-Topic", "shop/redact")]),
            ("another shop's domain", [("set", "X-Shopify-Shop-Domain", OTHER_SHOP)]),
            ("Shopify Events header spelling", [("drop", "X-Shopify-Topic"), ("set", "shopify-topic", meta["topic"])]),
        ]


class WooCommerce(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "woocommerce",
            "/webhooks/woocommerce",
            "application/json",
            world,
            official.woocommerce(),
            ("X-WC-Webhook-Signature",),
            ("X-WC-Webhook-Source", "X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID"),
        )
        self.store = world.store_of("woocommerce")
        self.secret = world.config.stores[self.store].credentials["webhook_secret"]

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        from connectors.woocommerce.verify import signature

        topic = meta["topic"]
        resource, _, event = topic.partition(".")
        found = [
            ("User-Agent", "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"),
            ("X-WC-Webhook-Source", f"{self.store}/"),
            ("X-WC-Webhook-Topic", topic),
            ("X-WC-Webhook-Resource", resource),
            ("X-WC-Webhook-Event", event),
            ("X-WC-Webhook-ID", "1"),
            ("X-WC-Webhook-Delivery-ID", hashlib.md5(body).hexdigest()),
        ]
        if mode != UNSIGNED:
            found.append(("X-WC-Webhook-Signature", signature(body, self.secret if mode == SIGNED else "not-it")))
        return found

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        other = "http://127.0.0.1:1"
        return [
            *super().tricks(rng, meta),
            ("another store's source", [("set", "X-WC-Webhook-Source", other + "/")]),
            ("source not a URL", [("set", "X-WC-Webhook-Source", "http://[::1")]),
            ("swapped topic", [("set", "X-WC-Webhook-Topic", rng.choice(["order.deleted", "action.x", "ping", "Ü"]))]),
        ]


class Magento(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "magento",
            "/webhooks/magento",
            "application/json",
            world,
            official.magento(),
            ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2", "x-adobe-commerce-webhook-signature"),
            ("x-adobe-public-key1-path", "x-adobe-public-key2-path", "x-refund-hub-store", "x-refund-hub-topic"),
        )
        self.store = world.store_of("magento")
        settings = world.config.stores[self.store].settings
        self.provider = str(settings["io_events_provider_id"])
        self.client = str(settings["io_events_client_id"])
        self.events: Any = world.sims["magento"].events  # type: ignore[attr-defined]

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        data, meta = super().prepare(sample, rng)
        if meta["channel"] == "io":
            event_id = str(uuid.UUID(int=rng.getrandbits(128)))
            data.update(
                source=f"urn:uuid:{self.provider}",
                recipient_client_id=self.client,
                recipientclientid=self.client,
                event_id=event_id,
                eventid=event_id,
                id=str(uuid.UUID(int=rng.getrandbits(128))),
            )
        return data, meta

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        from connectors.magento.sim.signing import sign

        if meta["channel"] == "io":
            found = list(self.events.io_headers(body).items())
            if mode == FORGED:  # signed, but with the Commerce Webhooks key: not an I/O Events key
                wrong = sign(self.events.webhook_key, body)
                found = [(k, wrong if k.startswith("x-adobe-digital-signature") else v) for k, v in found]
        else:
            found = list(self.events.webhook_headers(body, self.store).items())
            if mode == FORGED:  # an I/O Events key, not the webhook's
                found = [
                    (k, sign(self.events.io_keys[0], base64.b64encode(body)) if k.endswith("webhook-signature") else v)
                    for k, v in found
                ]
        found = [(k, v) for k, v in found if k.lower() != "content-type"]
        if mode == UNSIGNED:
            found = [(k, v) for k, v in found if k not in self.signature_headers]
        return found

    def identity_ok(self, data: dict[str, Any], meta: dict[str, str]) -> bool:
        def text(name: str) -> bool:
            value = data.get(name)
            return isinstance(value, str) and 0 < len(value) <= 256

        if meta["channel"] != "io":
            return "eventName" not in data or text("eventName")
        return (
            all(text(n) for n in ("source", "recipient_client_id", "event_id", "type"))
            and data["source"] == f"urn:uuid:{self.provider}"
            and data["recipient_client_id"] == self.client
            and data.get("recipientclientid") in (None, "", self.client)
            and (data.get("eventid") in (None, "") or text("eventid"))
            and (data.get("id") in (None, "") or text("id"))
        )

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        return [
            *super().tricks(rng, meta),
            ("another store", [("set", "x-refund-hub-store", "another-store")]),
            ("key path outside Adobe's pattern", [("set", "x-adobe-public-key1-path", "/../../etc/passwd")]),
            ("unknown key path", [("set", "x-adobe-public-key1-path", f"/prod/keys/pub-key-{uuid.uuid4()}.pem")]),
            ("both channels' signatures", [("add", "x-adobe-commerce-webhook-signature", "AAAA")]),
        ]


class Stripe(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "stripe", "/webhooks/gateway/stripe", "application/json; charset=utf-8", world, official.stripe(),
            ("Stripe-Signature",),
        )  # fmt: skip
        self.secret = str(world.config.gateways["stripe"]["webhook_secret"])

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        data, meta = super().prepare(sample, rng)
        data["id"] = f"evt_fuzz{rng.getrandbits(64):016x}"
        return data, meta

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        if mode == UNSIGNED:
            return []
        secret = self.secret if mode == SIGNED else "whsec_not_it"
        t = int(datetime.now(UTC).timestamp())
        return [("Stripe-Signature", f"t={t},v1={hmac_hex(secret, f'{t}.'.encode() + body)}")]

    def identity_ok(self, data: dict[str, Any], meta: dict[str, str]) -> bool:
        return _texts(data, "id", "type")

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        t = int(datetime.now(UTC).timestamp())
        return [
            *super().tricks(rng, meta),
            ("expired timestamp", [("set", "Stripe-Signature", f"t={t - 3600},v1={'0' * 64}")]),
            ("timestamp not a number", [("set", "Stripe-Signature", "t=abc,v1=00")]),
            ("huge timestamp", [("set", "Stripe-Signature", f"t={'9' * 5000},v1=00")]),
            ("v0 only", [("set", "Stripe-Signature", f"t={t},v0=00")]),
        ]


class PayPal(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "paypal",
            "/webhooks/gateway/paypal",
            "application/json",
            world,
            official.paypal(),
            ("PAYPAL-TRANSMISSION-SIG",),
            ("PAYPAL-TRANSMISSION-TIME", "PAYPAL-CERT-URL", "PAYPAL-TRANSMISSION-ID", "PAYPAL-AUTH-ALGO"),
        )
        self.sim: Any = world.sims["paypal"]
        self.webhook_id = str(world.config.gateways["paypal"]["webhook_id"])

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        data, meta = super().prepare(sample, rng)
        data["id"] = f"WH-FUZZ{rng.getrandbits(64):016X}"
        return data, meta

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        found = list(self.sim.sign(body, self.webhook_id if mode == SIGNED else "WRONGWEBHOOKID0000").items())
        if mode == UNSIGNED:
            found = [(k, v) for k, v in found if k != "PAYPAL-TRANSMISSION-SIG"]
        return found

    def identity_ok(self, data: dict[str, Any], meta: dict[str, str]) -> bool:
        return _texts(data, "id", "event_type")

    def framing_ok(self, body: bytes) -> bool:
        """PayPal's verification API reads ``webhook_event`` as a JSON value, so whitespace around the
        object is outside what it can vouch for; PayPal's own deliveries never carry any."""
        return body == body.strip(b" \t\r\n")

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        old = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            *super().tricks(rng, meta),
            ("old transmission time", [("set", "PAYPAL-TRANSMISSION-TIME", old)]),
            ("cert url elsewhere", [("set", "PAYPAL-CERT-URL", "http://127.0.0.1:1/cert.pem")]),
        ]


class Square(Endpoint):
    def __init__(self, world: World) -> None:
        super().__init__(
            "square", "/webhooks/gateway/square", "application/json", world, official.square(),
            ("x-square-hmacsha256-signature",),
        )  # fmt: skip
        account = world.config.gateways["square"]
        self.key = str(account["webhook_signature_key"])
        self.url = str(account.get("notification_url") or world.hub_url + self.path)

    def prepare(self, sample: Sample, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
        data, meta = super().prepare(sample, rng)
        data["event_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        return data, meta

    def headers(self, body: bytes, meta: dict[str, str], mode: str) -> HeaderList:
        if mode == UNSIGNED:
            return []
        key = self.key if mode == SIGNED else "not-the-signature-key"
        return [("x-square-hmacsha256-signature", hmac_base64(key, self.url.encode() + body))]

    def identity_ok(self, data: dict[str, Any], meta: dict[str, str]) -> bool:
        return _texts(data, "event_id", "type")

    def tricks(self, rng: random.Random, meta: dict[str, str]) -> list[tuple[str, list[Edit]]]:
        return [*super().tricks(rng, meta), ("signed over another URL", [("set", "x-square-hmacsha256-signature", "")])]


def _texts(data: dict[str, Any], *names: str) -> bool:
    return all(isinstance(data.get(n), str) and data[n] != "" for n in names)


def _replace_text(data: Any, old: str, new: str) -> Any:
    if isinstance(data, str):
        return data.replace(old, new)
    if isinstance(data, dict):
        return {k: _replace_text(v, old, new) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace_text(v, old, new) for v in data]
    return data


ENDPOINTS: dict[str, Callable[[World], Endpoint]] = {
    "shopify": Shopify,
    "woocommerce": WooCommerce,
    "magento": Magento,
    "stripe": Stripe,
    "paypal": PayPal,
    "square": Square,
}

__all__ = ["ENDPOINTS", "FORGED", "SIGNED", "UNSIGNED", "Endpoint", "apply_edits", "field"]
