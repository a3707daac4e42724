"""The Square simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``square`` entry point of ``refund_hub.simulators``: it accepts the first
``square`` gateway account's access token, signs with its webhook signature key over its
``notification_url`` and posts to that account's ``/webhooks/gateway/<account>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateways.square.sim.server import SquareSimulator
from hub.sandbox.factories import gateway_target

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> SquareSimulator:
    target = gateway_target(config, "square", hub_url)
    account = target.settings
    return SquareSimulator(
        port,
        target.webhook_url,
        settle_after=target.settle_after,
        access_token=account["access_token"],
        signature_key=account["webhook_signature_key"],
        notification_url=account.get("notification_url"),
    )
