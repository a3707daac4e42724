"""The ``sandbox`` connector: the smallest complete connector, against ``SandboxPlatform``.

It is the hub's own test connector and a worked example for plugin authors: HMAC-signed
JSON webhooks, a re-read of the order over HTTP with the store's token, write-back with the
hub refund id in the record, and the platform route with an idempotency key.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import requests

from hub.contracts import (
    Connector,
    Delivery,
    Execution,
    Inbound,
    ListedRefund,
    Notice,
    Outcome,
    RecordResult,
    RefundListing,
    RefundLookup,
    RefundResult,
    StoreContext,
    Verified,
    WriteBack,
)
from hub.errors import MalformedBody, ParseError, PlatformUnavailable, SignatureInvalid
from hub.models import (
    Customer,
    Event,
    Ignored,
    Line,
    OrderFacts,
    Payment,
    ProductKind,
    ReasonCode,
    RefundRecorded,
    RefundRequest,
    RefundRequested,
)
from hub.testing.signing import hmac_base64

TIMEOUT = (3.05, 10)


class SandboxConnector(Connector):
    name = "sandbox"
    default_routes = {"sandbox": "gateway:sandbox", "platform": "platform"}
    lookup_is_complete = True  # get_platform_refund reads every refund record of the order

    @cached_property
    def _http(self) -> requests.Session:
        """One session per connector: its pool keeps connections to the platform open between
        calls (a bare ``requests.post`` builds a session and a TCP connection every time)."""
        return requests.Session()

    def verify(self, inbound: Inbound) -> Verified:
        given = inbound.headers.get("X-Sandbox-Signature", "")
        secrets = [s for s in (self.settings.get("webhook_secret"), self.settings.get("previous_webhook_secret")) if s]
        if not given or not any(hmac.compare_digest(hmac_base64(s, inbound.body), given) for s in secrets):
            raise SignatureInvalid("X-Sandbox-Signature does not match the body")
        store_id, event_id = inbound.headers.get("X-Sandbox-Store"), inbound.headers.get("X-Sandbox-Event-Id")
        if not store_id or not event_id:
            raise MalformedBody("X-Sandbox-Store and X-Sandbox-Event-Id are required")
        return Verified(store_id=store_id, topic=inbound.headers.get("X-Sandbox-Topic", ""), dedupe_key=event_id)

    def parse(self, delivery: Delivery) -> list[Notice]:
        try:
            body = json.loads(delivery.body)
            topic = body["topic"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ParseError(f"sandbox delivery is not a JSON object with a topic: {exc}") from exc
        if topic == "refund.requested":
            return [
                Notice(
                    "requested",
                    delivery.store_id,
                    topic,
                    order_id=str(body["order_id"]),
                    source_ref=str(body["request_id"]),
                    hints={"amount": body["amount"], "reason": body["reason"]},
                )
            ]
        if topic == "refund.created":
            return [
                Notice(
                    "recorded",
                    delivery.store_id,
                    topic,
                    order_id=str(body["order_id"]),
                    source_ref=str(body["refund_id"]),
                )
            ]
        return [Notice("ignored", delivery.store_id, topic)]

    def _get(self, store: StoreContext, path: str) -> Any:
        try:
            response = self._http.get(
                f"{store.settings['api_url']}{path}",
                timeout=TIMEOUT,
                headers={"Authorization": f"Bearer {store.credentials['token']}"},
            )
        except requests.RequestException as exc:
            raise PlatformUnavailable(str(exc)) from exc
        if response.status_code == 404:
            raise ParseError(f"{path} does not exist in store {store.id}")
        if response.status_code >= 400:
            raise PlatformUnavailable(f"{path}: HTTP {response.status_code}")
        return response.json()

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        order = self._get(store, f"/orders/{notice.order_id}")
        if notice.kind == "recorded":
            record = next(
                (r for r in self._get(store, f"/orders/{notice.order_id}/refunds") if r["id"] == notice.source_ref),
                None,
            )
            if record is None:
                return Ignored(reason=f"refund {notice.source_ref} not found", topic=notice.topic)
            request = _request(store, order, notice, record["amount"], hub_refund_id=record.get("hub_refund_id"))
            return RefundRecorded(request=request, money_moved=True, gateway_refund_id=record.get("gateway_refund_id"))
        return RefundRequested(
            request=_request(
                store, order, notice, int(notice.hints["amount"]), reason=str(notice.hints.get("reason", ""))
            )
        )

    def _post_refund(self, store: StoreContext, order_id: str, payload: dict[str, Any]) -> requests.Response:
        return self._http.post(
            f"{store.settings['api_url']}/orders/{order_id}/refunds",
            json=payload,
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {store.credentials['token']}"},
        )

    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        response = self._post_refund(
            store,
            writeback.order_id,
            {
                "amount": writeback.amount,
                "note": writeback.note,
                "hub_refund_id": writeback.hub_refund_id,
                "api_refund": False,
                "gateway_refund_id": writeback.gateway_refund_id,
                "idempotency_key": f"record-{writeback.hub_refund_id}",
            },
        )
        response.raise_for_status()
        return RecordResult(reference=response.json()["id"])

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        try:
            response = self._post_refund(
                store,
                execution.order_id,
                {
                    "amount": execution.amount,
                    "note": execution.note,
                    "hub_refund_id": execution.hub_refund_id,
                    "api_refund": True,
                    "idempotency_key": execution.idempotency_key,
                },
            )
        except requests.ConnectionError as exc:
            return RefundResult(Outcome.UNKNOWN, message=str(exc))
        except requests.RequestException as exc:
            return RefundResult(Outcome.UNKNOWN, message=str(exc))
        if response.status_code == 422:
            return RefundResult(Outcome.FAILED, code=response.json().get("code"), message=response.text)
        if response.status_code >= 400:
            return RefundResult(Outcome.UNKNOWN, code=str(response.status_code), message=response.text[:300])
        record = response.json()
        return RefundResult(Outcome.SUCCEEDED, gateway_refund_id=record["id"], amount=record["amount"])

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        order_id = lookup.payment_extra.get("order_id", "")
        for record in self._get(store, f"/orders/{order_id}/refunds") if order_id else []:
            if record.get("hub_refund_id") == lookup.hub_refund_id and record.get("api_refund"):
                return RefundResult(Outcome.SUCCEEDED, gateway_refund_id=record["id"], amount=record["amount"])
        return None

    def list_refunds(self, store: StoreContext, since: datetime, cursor: str | None) -> RefundListing | None:
        """``GET /refunds?created_at_min=…&page=…``: every record of the store, a page at a time."""
        query = urlencode({"created_at_min": since.astimezone(UTC).isoformat(), "page": cursor or 1, "per_page": 50})
        page = self._get(store, f"/refunds?{query}")
        orders: dict[str, Any] = {}
        for record in page["refunds"]:
            if record["order_id"] not in orders:
                orders[record["order_id"]] = self._get(store, f"/orders/{record['order_id']}")
        listed = tuple(_listed(record, orders.get(record["order_id"])) for record in page["refunds"])
        return RefundListing(listed, str(page["next_page"]) if page.get("next_page") else None)


def _listed(record: dict[str, Any], order: dict[str, Any] | None) -> ListedRefund:
    payments = (order or {}).get("payments") or [{}]
    return ListedRefund(
        id=str(record["id"]),
        amount=int(record["amount"]),
        currency=str((order or {}).get("currency", "USD")),
        outcome=Outcome.SUCCEEDED,
        created_at=datetime.fromisoformat(record["created_at"]),
        payment_reference=payments[0].get("reference"),
        hub_refund_id=record.get("hub_refund_id"),
        gateway_refund_id=record.get("gateway_refund_id"),
        order_id=str(record["order_id"]),
        source_ref=str(record["id"]),
    )


def _request(
    store: StoreContext,
    order: dict[str, Any],
    notice: Notice,
    amount: int,
    *,
    reason: str = "",
    hub_refund_id: str | None = None,
) -> RefundRequest:
    currency = order["currency"]
    created = datetime.fromisoformat(order["created_at"])
    return RefundRequest(
        connector="sandbox",
        store_id=store.id,
        order_id=order["id"],
        source_ref=str(notice.source_ref),
        customer=Customer(**order["customer"]),
        order=OrderFacts(
            created_at=created,
            paid_at=datetime.fromisoformat(order["paid_at"]),
            currency=currency,
            total=order["total"],
            captured=order["captured"],
        ),
        lines=tuple(
            Line(
                line_id=li["id"],
                sku=li["sku"],
                title=li["title"],
                quantity=li["quantity"],
                unit_price=li["unit_price"],
                kind=ProductKind(li["kind"]),
            )
            for li in order["lines"]
        ),
        amount=amount,
        currency=currency,
        reason=ReasonCode(reason) if reason in ReasonCode._value2member_map_ else ReasonCode.OTHER,
        reason_text=reason,
        payments=tuple(
            Payment(
                platform_label=p["label"],
                reference=p["reference"],
                captured=p["captured"],
                currency=p["currency"],
                extra={"order_id": order["id"]},
            )
            for p in order["payments"]
        ),
        requested_at=datetime.now(UTC),
        hub_refund_id=hub_refund_id,
    )
