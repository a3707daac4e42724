"""The Stripe simulator: Stripe's refund API on 127.0.0.1, faithful enough for the official SDK."""

from gateways.stripe.sim.server import StripeSimulator

__all__ = ["StripeSimulator"]
