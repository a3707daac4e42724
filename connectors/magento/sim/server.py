"""A fake Magento / Adobe Commerce for tests and ``refund-hub sandbox``: REST API, OAuth, I/O Events.

Start it, seed it, point the hub at it::

    sim = MagentoSimulator(webhook_url="http://127.0.0.1:8000/webhooks/magento").start()
    order = sim.add_order([{"sku": "TEE", "price": 2500}], method="stripe_payments", last_trans_id="pi_1")
    sim.create_rma(order["entity_id"])        # Adobe Commerce mode: fires observer.rma_save_after
    settings, store = sim.hub_settings(), sim.store()

``credentials``, ``provider_id``, ``client_id`` and ``store_id`` fix what is otherwise generated,
so a simulator started from a configuration file agrees with the store declared there.
``edition="open_source"`` sends nothing and has no RMA API (the hub has to poll). Online credit
memos move money through ``online_refund(order, amount_minor, currency) -> transaction id``; the
default keeps it in the simulator's own ``SimLedger``, and the sandbox can plug a gateway
simulator in instead. Raise ``SimError`` from it to decline. From another process, drive it over
HTTP with the ``/__sim`` control API (``control``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from flask import Flask

from connectors.magento.install import store_id_for
from connectors.magento.sim import rest, seed
from connectors.magento.sim.auth import OAuthServer
from connectors.magento.sim.hooks import AdobeEvents
from connectors.magento.sim.state import MagentoFault, MagentoState, OnlineRefund
from connectors.magento.transformers import minor
from hub.contracts import StoreContext
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import SimError, SimLedger
from hub.sandbox.sender import SentWebhook

REFUND_STATUS = "refund_requested"
REFUND_MARKER = "#refund"


class MagentoSimulator(Simulator):
    name = "magento"

    def __init__(
        self,
        port: int = 0,
        webhook_url: str | None = None,
        *,
        edition: str = "commerce",
        currency: str = "USD",
        online_refund: OnlineRefund | None = None,
        allow_bearer: bool = False,
        store_code: str | None = None,
        credentials: Mapping[str, str] | None = None,
        provider_id: str | None = None,
        client_id: str | None = None,
        store_id: str | None = None,
        first_id: int = 1,
    ) -> None:
        """``first_id``: where entity ids start (a store that outlives restarts never reuses one)."""
        self.edition = edition
        self.currency = currency
        self.store_code = store_code
        self._store_id = store_id
        self.writes: list[tuple[str, str, Any]] = []
        self.page_faults: dict[tuple[str, int], int] = {}  # (listing, page) -> status, one answer each
        self.ledger = SimLedger(id_prefix="txn_")
        self.online_refund: OnlineRefund = online_refund or self._ledger_refund
        self.state = MagentoState(online_refund=self._refund_online, on_save=self._saved, first_id=first_id)
        self.oauth = OAuthServer(allow_bearer=allow_bearer)
        self.credentials = self.oauth.preinstalled(credentials)
        super().__init__(port=port, webhook_url=webhook_url)
        self.events = AdobeEvents(
            self.sender, provider_id=provider_id or str(uuid.uuid4()), client_id=client_id or uuid.uuid4().hex
        )

    def build_app(self) -> Flask:
        return rest.build_app(self)

    def error_body(self, status: int) -> Any:
        return {"message": f"Internal Error. Details are available in Magento log file. Report ID: webapi-{status}"}

    def stop(self) -> None:
        self.ledger.close()
        super().stop()

    # -- what the hub needs ------------------------------------------------------------------------

    def hub_settings(self) -> dict[str, Any]:
        """``[connectors.magento]`` for a hub talking to this simulator (on 127.0.0.1, so private
        networks are allowed; its I/O Events keys pasted and served for fetching too)."""
        return {
            "test_mode": True,
            "allow_private_networks": True,
            "io_events_public_keys": self.events.public_pems,
            "io_events_key_host": self.url,
        }

    @property
    def store_id(self) -> str:
        """The hub's id for this store: what the activation derives from the base URL, unless configured."""
        return self._store_id or store_id_for(self.url)

    def store(self) -> dict[str, Any]:
        """The seeded store: its id, settings and (preinstalled integration) credentials."""
        settings = {
            "base_url": self.url,
            "edition": self.edition,
            "io_events_provider_id": self.events.provider_id,
            "io_events_client_id": self.events.client_id,
            "webhook_public_keys": [self.events.webhook_public_pem],
            "refund_request_status": REFUND_STATUS,
            "refund_request_comment_marker": REFUND_MARKER,
        }
        if self.store_code:
            settings["store_code"] = self.store_code
        return {"id": self.store_id, "settings": settings, "credentials": dict(self.credentials)}

    def store_context(self, routes: Mapping[str, str] | None = None) -> StoreContext:
        store = self.store()
        return StoreContext(
            id=store["id"],
            connector="magento",
            settings=store["settings"],
            credentials=store["credentials"],
            routes=dict(routes or {}),
        )

    # -- seeding ---------------------------------------------------------------------------------

    def add_product(
        self,
        sku: str,
        *,
        type_id: str = "simple",
        name: str | None = None,
        price: int = 0,
        download_limit: int | None = None,
        returnable: bool | None = None,
    ) -> dict[str, Any]:
        record = seed.product(
            self.state.next_id(),
            sku,
            type_id=type_id,
            name=name or sku,
            price=price,
            currency=self.currency,
            download_limit=download_limit,
            returnable=returnable,
        )
        with self.state.lock:
            self.state.products[sku] = record
        return record

    def add_order(
        self,
        lines: Sequence[Mapping[str, Any]],
        *,
        method: str = "stripe_payments",
        last_trans_id: str | None = None,
        shipping: int = 0,
        email: str = "jane@example.com",
        customer_id: int | None = 7,
        invoiced: bool = True,
        captures: Sequence[tuple[int, str]] = (),
        gift_cards: Sequence[int] = (),
        store_credit: int = 0,
    ) -> dict[str, Any]:
        """An order paid with ``method`` (e.g. ``stripe_payments``, ``paypal_express``, ``squareup_payment``)
        whose gateway transaction is ``last_trans_id``; invoiced (paid) unless told otherwise. With
        ``captures`` (``(amount, transaction id)`` each) it is invoiced in parts, one per capture,
        whose money the gateway simulator holds. ``gift_cards`` (each card's amount) and ``store_credit``
        paid part of it (Adobe Commerce): the payment and its invoice cover only the rest."""
        with self.state.lock:
            products = dict(self.state.products)
        order = seed.order(
            self.state.next_id,
            lines,
            method=method,
            last_trans_id=last_trans_id,
            currency=self.currency,
            shipping=shipping,
            email=email,
            customer_id=customer_id,
            products=products,
            gift_cards=gift_cards,
            store_credit=store_credit,
        )
        self.state.add_order(order)
        for amount, transaction in captures:
            self.state.add_invoice(order["entity_id"], amount, transaction)
        if invoiced and not captures:
            self.state.add_invoice(order["entity_id"])
            if last_trans_id and last_trans_id not in self.ledger.payments:
                self.ledger.create_payment(minor(order["grand_total"], self.currency), self.currency, last_trans_id)
        return self.order(order["entity_id"])

    def create_rma(
        self,
        order_id: int,
        quantities: Mapping[int, int] | None = None,
        *,
        reason: str = "Wrong Size",
        status: str = "pending",
        comment: str = "",
    ) -> dict[str, Any]:
        """A customer's return request (Adobe Commerce); fires ``observer.rma_save_after``."""
        order = self.order(order_id)
        wanted = quantities or {int(i["item_id"]): int(i["qty_ordered"]) for i in order["items"]}
        return self.state.add_rma(
            seed.rma(self.state.next_id, order, wanted, reason=reason, status=status, comment=comment)
        )

    def mark_refund_request(self, order_id: int, *, status: str | None = None, comment: str | None = None) -> None:
        """How an Open Source store says "refund me": the refund status, or a comment with the marker."""
        if comment is not None:
            self.state.add_comment(order_id, {"comment": comment, "is_visible_on_front": 1})
        if status is not None or comment is None:
            self.state.set_status(order_id, status or REFUND_STATUS)

    def merchant_refund(self, order_id: int, *, online: bool = False, comment: str = "") -> int:
        """A credit memo the merchant makes in the Admin (the whole remaining order)."""
        body = {"items": [], "comment": {"comment": comment}} if comment else {"items": []}
        if not online:
            return self.state.refund_order(order_id, body)
        invoice = next(i for i in self.state.rows(self.state.invoices) if i["order_id"] == order_id)
        return self.state.refund_invoice(invoice["entity_id"], {**body, "isOnline": True})

    def fail_page(self, listing: str, page: int, status: int = 500) -> None:
        """The next request for ``page`` of ``listing`` (``creditmemos``, ``orders``, ...) fails with ``status``."""
        self.page_faults[(listing, page)] = status

    # -- inspection --------------------------------------------------------------------------------

    def order(self, order_id: Any) -> dict[str, Any]:
        return self.state.get(self.state.orders, order_id)

    def rma(self, rma_id: Any) -> dict[str, Any]:
        return self.state.get(self.state.returns, rma_id)

    def creditmemos(self, order_id: Any = None) -> list[dict[str, Any]]:
        rows = self.state.rows(self.state.creditmemos)
        return [m for m in rows if order_id is None or str(m["order_id"]) == str(order_id)]

    # -- pushes ----------------------------------------------------------------------------------

    def _saved(self, event_name: str, entity: Mapping[str, Any]) -> None:
        if self.edition != "commerce" or not self.webhook_url:
            return
        if event_name == "observer.sales_order_creditmemo_save_after":
            # Adobe's event schema for credit memos has no entity_id: the hub must cope with that
            entity = {k: v for k, v in entity.items() if k != "entity_id"}
        self.events.send_io_event(self.webhook_url, event_name, entity)

    def send_commerce_webhook(self, event_name: str, data: Mapping[str, Any]) -> SentWebhook:
        """An Adobe Commerce Webhooks call (signed over the base64 body) to ``webhook_url``."""
        if not self.webhook_url:
            raise RuntimeError("the simulator has no webhook_url")
        return self.events.send_webhook(self.webhook_url, event_name, data, self.store_id)

    # -- money -----------------------------------------------------------------------------------

    def _refund_online(self, order: Mapping[str, Any], amount: int, currency: str) -> str:
        try:
            return self.online_refund(order, amount, currency)
        except SimError as exc:
            raise MagentoFault(400, exc.message) from None

    def _ledger_refund(self, order: Mapping[str, Any], amount: int, currency: str) -> str:
        payment_id = str((order.get("payment") or {}).get("last_trans_id") or "")
        refund, _ = self.ledger.refund(payment_id, amount, key=None, fingerprint="", pending=False)
        return refund.id

    # -- integration activation --------------------------------------------------------------------

    def activate_integration(self, callback_url: str, identity_url: str) -> dict[str, Any]:
        """What Admin > Integrations > Activate does: POST the consumer to the callback, open the identity link."""
        consumer = self.oauth.new_consumer()
        posted = requests.post(
            callback_url,
            timeout=10,
            data={
                "oauth_consumer_key": consumer.key,
                "oauth_consumer_secret": consumer.secret,
                "store_base_url": f"{self.url}/",
                "oauth_verifier": consumer.verifier,
            },
        )
        result: dict[str, Any] = {"consumer_key": consumer.key, "callback_status": posted.status_code}
        if posted.status_code == 200:
            back = f"{self.url}/admin/admin/integration/loginSuccessCallback"
            shown = requests.get(
                identity_url,
                params={"oauth_consumer_key": consumer.key, "success_call_back": back},
                timeout=30,
                allow_redirects=False,
            )
            result.update(identity_status=shown.status_code, location=shown.headers.get("Location"))
        result["active"] = consumer.active
        return result
