"""The Stripe simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``stripe`` entry point of ``refund_hub.simulators``: it accepts the first
``stripe`` gateway account's API key, signs with its webhook secret and posts to that account's
``/webhooks/gateway/<account>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateways.stripe.sim.server import StripeSimulator
from hub.sandbox.factories import gateway_target

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> StripeSimulator:
    target = gateway_target(config, "stripe", hub_url)
    keys = {"api_key": target.settings["api_key"], "webhook_secret": target.settings["webhook_secret"]}
    return StripeSimulator(port, target.webhook_url, settle_after=target.settle_after, **keys)
