"""Stripe gateway adapter: refunds on PaymentIntents or charges through the official ``stripe`` SDK.

The account's settings are described in ``gateways.stripe.settings``; ``gateways.stripe.sim`` is
a local Stripe for tests and ``refund-hub sandbox``.
"""

from gateways.stripe.gateway import StripeGateway

__all__ = ["StripeGateway"]
