"""Building simulators from the configuration for ``refund-hub sandbox``/``serve``: the helpers every
plugin's factory shares, and the sandbox's own factories.

Registered like every plugin's simulator, as ``refund_hub.simulators`` entry points:
``sandbox-platform`` (``SandboxPlatform``, the store of the first ``sandbox`` store, posting to
``/webhooks/sandbox``) and ``sandbox-gateway`` (``SandboxGatewaySimulator``, the first ``sandbox``
gateway account's, posting to that account's ``/webhooks/gateway/<account>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from hub.sandbox.gateway import SandboxGatewaySimulator
from hub.sandbox.platform import SandboxPlatform

if TYPE_CHECKING:
    from hub.runtime.config import Config


class GatewayTarget(NamedTuple):
    """What a gateway simulator needs from the configuration to serve one account of its kind."""

    account: str
    settings: dict[str, Any]  # the account's settings: the simulator must accept its keys
    webhook_url: str  # the account's /webhooks/gateway/<account> at the hub
    settle_after: float  # seconds a simulated refund stays pending ([sandbox] settle_after)


def gateway_target(config: Config, kind: str, hub_url: str) -> GatewayTarget:
    """The first gateway account of ``kind``, where its status webhooks go, and how fast refunds settle."""
    account = next(a for a in config.gateways if config.gateway_type(a) == kind)
    return GatewayTarget(
        account=account,
        settings=dict(config.gateways[account]),
        webhook_url=f"{hub_url}/webhooks/gateway/{account}",
        settle_after=float(config.sandbox.get("settle_after", 0.5)),
    )


def platform_from_config(config: Config, port: int, hub_url: str) -> SandboxPlatform:
    store_id, store = next((sid, s) for sid, s in config.stores.items() if s.connector == "sandbox")
    return SandboxPlatform(
        store_id=store_id,
        token=store.credentials.get("token", "sandbox-token"),
        webhook_secret=config.connectors["sandbox"]["webhook_secret"],
        port=port,
        webhook_url=f"{hub_url}/webhooks/sandbox",
    )


def gateway_from_config(config: Config, port: int, hub_url: str) -> SandboxGatewaySimulator:
    target = gateway_target(config, "sandbox", hub_url)
    return SandboxGatewaySimulator(
        settle_after=target.settle_after,
        port=port,
        webhook_secret=str(target.settings.get("webhook_secret", "")),
        webhook_url=target.webhook_url,
    )
