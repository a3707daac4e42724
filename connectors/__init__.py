"""Built-in platform connectors (Shopify, WooCommerce, Magento), found through entry points."""
