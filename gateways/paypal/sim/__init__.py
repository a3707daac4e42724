"""The PayPal simulator: PayPal's refund API on 127.0.0.1, close enough that paypal-server-sdk cannot tell."""

from gateways.paypal.sim.server import PayPalSimulator

__all__ = ["PayPalSimulator"]
