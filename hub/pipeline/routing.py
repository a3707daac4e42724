"""Who moves the money for a payment (docs/architecture.md, routing): a gateway account, the platform, or nobody."""

from __future__ import annotations

from hub.contracts import Connector, StoreContext
from hub.models import Payment

PLATFORM = "platform"
NONE = "none"


class NoRoute(Exception):
    """The store maps no route for the payment's label: the refund goes to a person."""


def route_for(store: StoreContext, connector: Connector, payment: Payment) -> str:
    """The store's own mapping first, then the connector's defaults."""
    label = payment.platform_label
    route = store.routes.get(label) or connector.default_routes.get(label)
    if route is None:
        raise NoRoute(f"store {store.id} has no route for payment label {label!r}")
    return route


def gateway_account(route: str) -> str | None:
    return route[len("gateway:") :] if route.startswith("gateway:") else None
