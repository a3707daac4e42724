"""PayPal gateway adapter (``paypal-server-sdk``, Payments v2) with a v1 sale fallback and voids.

The account's settings are described in ``gateways.paypal.settings``.

Which call refunds a payment (``Execution.payment_extra``):

- default: ``POST /v2/payments/captures/{id}/refund`` (``payment_reference`` is a capture id);
- ``paypal_api = "v1"``: ``POST /v1/payments/sale/{id}/refund`` (REST v1 sale ids,
  subscription payments); ``paypal_api = "auto"``: v2 first, and the v1 sale call only when
  v2 answers 404 RESOURCE_NOT_FOUND / INVALID_RESOURCE_ID (nothing moved, so it is safe);
- ``intent = "AUTHORIZE"`` and ``captured`` not true (WooCommerce PayPal Payments
  ``_ppcp_paypal_intent`` / ``_ppcp_paypal_captured``): the reference is an authorization id
  and the refund is a void (``POST /v2/payments/authorizations/{id}/void``) of all of it.

Lookups also use ``paypal_order_id`` (WooCommerce ``_ppcp_paypal_order_id``) and
``paypal_latest_refund_id``; see ``gateways.paypal.lookup``.
"""

from gateways.paypal.gateway import PayPalGateway

__all__ = ["PayPalGateway"]
