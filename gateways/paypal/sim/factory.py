"""The PayPal simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``paypal`` entry point of ``refund_hub.simulators``: it accepts the first
``paypal`` gateway account's client credentials, signs for its ``webhook_id`` and posts to that
account's ``/webhooks/gateway/<account>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateways.paypal.sim.server import PayPalSimulator
from hub.sandbox.factories import gateway_target

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> PayPalSimulator:
    target = gateway_target(config, "paypal", hub_url)
    keys = {k: target.settings[k] for k in ("client_id", "client_secret", "webhook_id")}
    return PayPalSimulator(port, target.webhook_url, target.settle_after, **keys)
