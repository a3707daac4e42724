"""Shopify connector: returns and refunds webhooks in, Admin GraphQL re-reads and refunds out."""

from connectors.shopify.connector import ShopifyConnector

__all__ = ["ShopifyConnector"]
