"""The Stripe simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``stripe`` entry point of ``refund_hub.simulators``: it accepts the first
``stripe`` gateway account's API key, signs with its webhook secret and posts to that account's
``/webhooks/gateway/<account>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateways.stripe.sim.server import StripeSimulator
from hub.sandbox.factories import gateway_account, settle_after

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> StripeSimulator:
    account, settings = gateway_account(config, "stripe")
    return StripeSimulator(
        port,
        f"{hub_url}/webhooks/gateway/{account}",
        settle_after=settle_after(config),
        api_key=settings["api_key"],
        webhook_secret=settings["webhook_secret"],
    )
