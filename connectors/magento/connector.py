"""The Magento / Adobe Commerce connector: the hub's ``Connector`` port over the modules of this package.

Adobe Commerce pushes through Adobe I/O Events or Commerce Webhooks (``push``); Magento Open Source
pushes nothing and is polled (``polling``); both are re-read and normalized the same way
(``fetching``). Writes go through ``writes``; the integration activation through ``install``.

Configuration ``[connectors.magento]``: ``test_mode`` (http and loopback URLs allowed),
``io_events_public_keys`` (PEMs of Adobe's I/O Events keys), ``io_events_fetch_keys`` (fetch them
from ``static.adobeioevents.com`` by the delivery's key paths instead). Store settings:
``base_url``, ``store_code``, ``edition`` (``open_source`` | ``commerce``), ``io_events_provider_id``,
``io_events_client_id``, ``io_events_public_keys``, ``webhook_public_keys``,
``refund_request_status``, ``refund_request_comment_marker``, ``notify_customer``, ``timeout``.
Store credentials: ``consumer_key``, ``consumer_secret``, ``access_token``, ``access_token_secret``
(OAuth 1.0a) or ``bearer_token``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from connectors.magento import fetching, install, polling, push, writes
from connectors.magento.client import MagentoClient
from hub.contracts import (
    Connector,
    DecisionNotice,
    Delivery,
    Execution,
    Inbound,
    Notice,
    Outcome,
    PollResult,
    RecordResult,
    RefundLookup,
    RefundResult,
    StoreContext,
    Verified,
    WriteBack,
)
from hub.errors import PlatformError
from hub.models import Event

if TYPE_CHECKING:
    from flask import Blueprint


class MagentoConnector(Connector):
    name = "magento"
    # get_platform_refund reads every credit memo of the order for the hub id in its comments, so
    # "none found" proves the platform route moved no money and the janitor may send it again.
    lookup_is_complete = True
    # payment.method -> route where the store's own routes say nothing. Method codes come from the
    # modules' sources: Stripe's official module (StripeIntegration_Payments), Magento's core PayPal
    # module, Braintree (incl. PayPal through Braintree, whose captures belong to Braintree) and
    # Adobe Payment Services refund online through Magento itself. Square's extension codes were not
    # verified: stores name theirs in ``routes``.
    default_routes: ClassVar[Mapping[str, str]] = {
        "stripe_payments": "gateway:stripe",
        "stripe_payments_checkout": "gateway:stripe",
        "stripe_payments_express": "gateway:stripe",
        "paypal_express": "gateway:paypal",
        "paypal_express_bml": "gateway:paypal",
        "paypal_billing_agreement": "gateway:paypal",
        "hosted_pro": "gateway:paypal",
        "squareup_payment": "gateway:square",
        "square": "gateway:square",
        "braintree": "platform",
        "braintree_paypal": "platform",
        "braintree_cc_vault": "platform",
        "braintree_paypal_vault": "platform",
        "braintree_applepay": "platform",
        "braintree_googlepay": "platform",
        "braintree_venmo": "platform",
        "payment_services_paypal_smart_buttons": "platform",
        "payment_services_paypal_hosted_fields": "platform",
        "payment_services_paypal_apple_pay": "platform",
        "payment_services_paypal_google_pay": "platform",
        "payment_services_paypal_vault": "platform",
        "checkmo": "none",
        "banktransfer": "none",
        "cashondelivery": "none",
        "purchaseorder": "none",
        "free": "none",
    }

    def client(self, store: StoreContext) -> MagentoClient:
        return MagentoClient(store)

    def verify(self, inbound: Inbound) -> Verified:
        return push.verify(self.settings, self.stores, inbound)

    def parse(self, delivery: Delivery) -> list[Notice]:
        return push.parse(self.stores, delivery)

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        with self.client(store) as client:
            return fetching.fetch(client, store, notice)

    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        with self.client(store) as client:
            return writes.record(client, store, writeback)

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        try:
            client = self.client(store)
        except PlatformError as exc:  # no usable credentials or URL: nothing was sent
            return RefundResult(outcome=Outcome.UNAVAILABLE, code="not_configured", message=str(exc))
        with client:
            return writes.refund_on_platform(client, store, execution)

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        with self.client(store) as client:
            return writes.get_platform_refund(client, lookup)

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        with self.client(store) as client:
            return writes.notify_decision(client, store, notice)

    def poll(self, store: StoreContext, cursor: str | None) -> PollResult | None:
        with self.client(store) as client:
            return polling.poll(client, store, cursor)

    def blueprint(self) -> Blueprint | None:
        return install.blueprint(self.settings, self.stores)
