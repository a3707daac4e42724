"""The Magento connector's settings: what a store and the connector may configure, and the default routes.

Configuration ``[connectors.magento]``: ``test_mode`` (http URLs allowed, and the I/O Events key
host below), ``allow_private_networks`` (the activation may call a store URL on a private,
loopback or link-local address: simulators on 127.0.0.1, a Magento on the hub's own network),
``io_events_public_keys`` (PEMs of Adobe's I/O Events keys, checked first), ``io_events_fetch_keys``
(default true: also fetch Adobe's current keys from ``static.adobeioevents.com`` by the delivery's
key paths, cached; false to rely on the pasted ones), ``io_events_key_host`` (test mode only: a
simulator serving the keys instead), ``io_events_client_id`` (the I/O project's client id, checked
against ``recipient_client_id`` where a store names none). Store settings: ``base_url``,
``store_code``, ``edition`` (``open_source`` | ``commerce``), ``io_events_provider_id``,
``io_events_client_id``, ``io_events_public_keys``, ``webhook_public_keys``,
``refund_request_status``, ``refund_request_comment_marker``, ``notify_customer``, ``timeout``,
``poll_page_size``, ``poll_max_pages``, ``poll_lookback_hours``.
Store credentials: ``consumer_key``, ``consumer_secret``, ``access_token``, ``access_token_secret``
(OAuth 1.0a) or ``bearer_token``.
"""

from __future__ import annotations

from collections.abc import Mapping

# payment.method -> route where the store's own routes say nothing. Method codes come from the
# modules' sources: Stripe's official module (StripeIntegration_Payments), Magento's core PayPal
# module, Braintree (incl. PayPal through Braintree, whose captures belong to Braintree) and
# Adobe Payment Services refund online through Magento itself. Square's extension codes were not
# verified: stores name theirs in ``routes``.
DEFAULT_ROUTES: Mapping[str, str] = {
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
