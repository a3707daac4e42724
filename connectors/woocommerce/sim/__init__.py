"""The WooCommerce simulator: a fake store (REST v3, key authorization, signed webhooks) on 127.0.0.1."""

from connectors.woocommerce.sim.server import WooCommerceSimulator
from connectors.woocommerce.sim.state import ledger_refunder

__all__ = ["WooCommerceSimulator", "ledger_refunder"]
