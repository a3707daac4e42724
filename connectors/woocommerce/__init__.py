"""WooCommerce connector: signed webhooks, REST v3 re-reads and write-backs, key-authorization install."""

from connectors.woocommerce.connector import WooCommerceConnector

__all__ = ["WooCommerceConnector"]
