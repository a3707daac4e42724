"""Stripe gateway adapter: refunds on PaymentIntents or charges through the official ``stripe`` SDK.

Account settings (``[gateways.<account>]``), all per instance, nothing process-global:

- ``api_key`` (required): secret or restricted key (``sk_...``/``rk_...``) with refund write access.
- ``webhook_secret``: the endpoint's signing secret (``whsec_...``) for ``Stripe-Signature``.
- ``previous_webhook_secret`` (optional): the secret being rotated out; still accepted.
- ``webhook_tolerance`` (optional, seconds, default 300): oldest signature timestamp accepted.
- ``max_network_retries`` (default 2): the SDK's own retries of 409/5xx/network errors; they
  reuse the same ``Idempotency-Key``, which Stripe replays, so they never refund twice.
- ``timeout`` (seconds, default 30; the SDK's default is 80).
- ``base_url`` (optional): where the API lives, e.g. a ``StripeSimulator`` (``base_addresses``).

``payment_extra["stripe_intent_id"]`` (WooCommerce's ``_stripe_intent_id``) makes a refund target
the PaymentIntent even when the payment reference is a charge id.
"""

from gateways.stripe.gateway import StripeGateway

__all__ = ["StripeGateway"]
