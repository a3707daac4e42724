"""Building simulators from the configuration for ``refund-hub sandbox``/``serve``: the helpers every
plugin's factory shares, and the sandbox's own factories.

Registered like every plugin's simulator, as ``refund_hub.simulators`` entry points:
``sandbox-platform`` (``SandboxPlatform``, the store of the first ``sandbox`` store, posting to
``/webhooks/sandbox``) and ``sandbox-gateway`` (``SandboxGatewaySimulator``, the first ``sandbox``
gateway account's, posting to that account's ``/webhooks/gateway/<account>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.sandbox.gateway import SandboxGatewaySimulator
from hub.sandbox.platform import SandboxPlatform

if TYPE_CHECKING:
    from hub.runtime.config import Config


def gateway_account(config: Config, kind: str) -> tuple[str, dict[str, Any]]:
    """The first gateway account of ``kind``: its simulator must accept that account's keys."""
    account = next(a for a in config.gateways if config.gateway_type(a) == kind)
    return account, dict(config.gateways[account])


def settle_after(config: Config) -> float:
    """Seconds a simulated refund stays pending (``[sandbox] settle_after``)."""
    return float(config.sandbox.get("settle_after", 0.5))


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
    account, settings = gateway_account(config, "sandbox")
    return SandboxGatewaySimulator(
        settle_after=settle_after(config),
        port=port,
        webhook_secret=str(settings.get("webhook_secret", "")),
        webhook_url=f"{hub_url}/webhooks/gateway/{account}",
    )
