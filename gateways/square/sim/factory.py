"""The Square simulator ``refund-hub sandbox`` starts, built from the hub's configuration.

Registered as the ``square`` entry point of ``refund_hub.simulators``: it accepts the first
``square`` gateway account's access token, signs with its webhook signature key over its
``notification_url`` and posts to that account's ``/webhooks/gateway/<account>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateways.square.sim.server import SquareSimulator
from hub.sandbox.factories import gateway_account, settle_after

if TYPE_CHECKING:
    from hub.runtime.config import Config


def from_config(config: Config, port: int, hub_url: str) -> SquareSimulator:
    account, settings = gateway_account(config, "square")
    return SquareSimulator(
        port,
        f"{hub_url}/webhooks/gateway/{account}",
        settle_after=settle_after(config),
        access_token=settings["access_token"],
        signature_key=settings["webhook_signature_key"],
        notification_url=settings.get("notification_url"),
    )
