"""Which simulators ``refund-hub sandbox``/``serve`` can start, built from the configuration so
their secrets and ports agree with the stores and gateway accounts that point at them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.runtime.config import Config
from hub.sandbox.base import Simulator


def _sandbox_platform(config: Config, port: int, hub_url: str) -> Simulator:
    from hub.sandbox.platform import SandboxPlatform

    store_id, store = next((sid, s) for sid, s in config.stores.items() if s.connector == "sandbox")
    return SandboxPlatform(
        store_id=store_id,
        token=store.credentials.get("token", "sandbox-token"),
        webhook_secret=config.connectors["sandbox"]["webhook_secret"],
        port=port,
        webhook_url=f"{hub_url}/webhooks/sandbox",
    )


def _sandbox_gateway(config: Config, port: int, hub_url: str) -> Simulator:
    from hub.sandbox.gateway import SandboxGatewaySimulator

    account = next(a for a in config.gateways if config.gateway_type(a) == "sandbox")
    return SandboxGatewaySimulator(
        settle_after=float(config.sandbox.get("settle_after", 0.5)),
        port=port,
        webhook_secret=str(config.gateways[account].get("webhook_secret", "")),
        webhook_url=f"{hub_url}/webhooks/gateway/{account}",
    )


def _magento(config: Config, port: int, hub_url: str) -> Simulator:
    from connectors.magento.simulator import from_config

    return from_config(config, port, hub_url)  # webhook URL f"{hub_url}/webhooks/magento"


def _shopify(config: Config, port: int, hub_url: str) -> Simulator:
    from connectors.shopify.simulator import ShopifySimulator

    settings = config.connectors["shopify"]
    simulator = ShopifySimulator(
        port=port,
        webhook_url=f"{hub_url}/webhooks/shopify",
        api_key=str(settings.get("api_key", "")),
        api_secret=str(settings["api_secret"]),
    )
    for store_id, store in config.stores.items():
        if store.connector == "shopify":
            token = store.credentials.get("access_token")
            simulator.add_shop(store_id, access_token=token, installed=bool(token))
    return simulator


def _woocommerce(config: Config, port: int, hub_url: str) -> Simulator:
    from connectors.woocommerce.simulator import from_config

    return from_config(config, port, hub_url)  # store http://127.0.0.1:<port>, posts to /webhooks/woocommerce


def _account(config: Config, kind: str) -> tuple[str, dict[str, Any]]:
    """The first gateway account of ``kind``: its simulator must accept that account's keys."""
    account = next(a for a in config.gateways if config.gateway_type(a) == kind)
    return account, dict(config.gateways[account])


def _settle(config: Config) -> float:
    return float(config.sandbox.get("settle_after", 0.5))


def _stripe(config: Config, port: int, hub_url: str) -> Simulator:
    from gateways.stripe.simulator import StripeSimulator

    account, settings = _account(config, "stripe")
    return StripeSimulator(
        port,
        f"{hub_url}/webhooks/gateway/{account}",
        settle_after=_settle(config),
        api_key=settings["api_key"],
        webhook_secret=settings["webhook_secret"],
    )


def _paypal(config: Config, port: int, hub_url: str) -> Simulator:
    from gateways.paypal.simulator import PayPalSimulator

    account, settings = _account(config, "paypal")
    return PayPalSimulator(
        port,
        f"{hub_url}/webhooks/gateway/{account}",
        _settle(config),
        client_id=settings["client_id"],
        client_secret=settings["client_secret"],
        webhook_id=settings["webhook_id"],
    )


def _square(config: Config, port: int, hub_url: str) -> Simulator:
    from gateways.square.simulator import SquareSimulator

    account, settings = _account(config, "square")
    return SquareSimulator(
        port,
        f"{hub_url}/webhooks/gateway/{account}",
        settle_after=_settle(config),
        access_token=settings["access_token"],
        signature_key=settings["webhook_signature_key"],
        notification_url=settings.get("notification_url"),
    )


FACTORIES: dict[str, Callable[[Config, int, str], Simulator]] = {
    "sandbox-platform": _sandbox_platform,
    "sandbox-gateway": _sandbox_gateway,
    "magento": _magento,
    "shopify": _shopify,
    "woocommerce": _woocommerce,
    "stripe": _stripe,
    "paypal": _paypal,
    "square": _square,
}


def build_simulators(config: Config) -> list[Simulator]:
    hub_url = config.hub.public_url.rstrip("/")
    ports: dict[str, Any] = dict(config.sandbox.get("ports", {}))
    unknown = set(ports) - set(FACTORIES)
    if unknown:
        from hub.errors import ConfigError

        raise ConfigError("sandbox.ports", f"unknown simulators {sorted(unknown)}; known: {sorted(FACTORIES)}")
    return [FACTORIES[name](config, int(port), hub_url) for name, port in ports.items()]
