"""The Shopify simulator: a fake Shopify (OAuth, Admin GraphQL, signed webhooks) on 127.0.0.1."""

from connectors.shopify.sim.server import ShopifySimulator

__all__ = ["ShopifySimulator"]
