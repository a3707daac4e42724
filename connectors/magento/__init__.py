"""Magento Open Source and Adobe Commerce: I/O Events and Commerce Webhooks in, REST API out, polling for the rest."""

from connectors.magento.connector import MagentoConnector

__all__ = ["MagentoConnector"]
