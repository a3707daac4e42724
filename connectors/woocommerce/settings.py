"""The WooCommerce connector's settings: what a store and the connector may configure, and the default routes.

Configuration (``[connectors.woocommerce]``): ``app_url`` (the hub's public URL, for install
and webhook delivery URLs), ``app_name``, ``timeout`` (seconds, default 20), ``test_mode``
(allows http and loopback store URLs), ``poll_lookback_hours`` (first poll, default 24), and
defaults for the store settings below.

Store settings: ``url`` (home URL; the store id is its normalized form, see ``store_id_for``),
``refund_request_status`` (default ``refund-requested``), ``refund_request_action`` (an
``action.*`` topic a returns plugin fires with the order id), ``refund_reason_meta`` (order
meta holding the customer's reason, default ``_refund_reason``), ``execute_manual_refunds``
(default false: whether the hub should execute manual refunds at the gateway, copied into each
``recorded`` notice's hints), ``restock`` (``api_restock`` on write-back, default false),
``verify_ssl``, ``query_string_auth``, ``final_sale_meta`` (a product meta key the merchant
marks final-sale products with, ``yes``/``1``/``true``; core WooCommerce has none).
Credentials: ``consumer_key``, ``consumer_secret``, ``webhook_secret``, ``previous_webhook_secret``.

Default payment routes: WooCommerce ``payment_method`` ids → the hub gateway that refunds them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.woocommerce.transformers import PAYMENT_FAMILIES, normalize_status, payment_family

DEFAULT_REQUEST_STATUS = "refund-requested"


@dataclass(frozen=True)
class StoreOptions:
    """The per-store choices parse and poll need: store settings over connector settings, except
    ``execute_manual_refunds``, which the hub itself reads from the store's settings only."""

    request_status: str = DEFAULT_REQUEST_STATUS
    request_action: str = ""
    execute_manual_refunds: bool = False

    @classmethod
    def of(cls, store_settings: Mapping[str, Any], connector_settings: Mapping[str, Any]) -> StoreOptions:
        def option(key: str, default: Any) -> Any:
            return store_settings.get(key, connector_settings.get(key, default))

        return cls(
            request_status=normalize_status(option("refund_request_status", DEFAULT_REQUEST_STATUS)),
            request_action=str(option("refund_request_action", "") or "").strip().lower(),
            execute_manual_refunds=bool(store_settings.get("execute_manual_refunds", False)),
        )


class GatewayRoutes(Mapping[str, str]):
    """The known plugin ids as plain keys, plus the plugins' id prefixes (``ppcp-*``, ``stripe_*``)
    for methods added later; unknown methods have no default route."""

    def __init__(self, known: Mapping[str, str]) -> None:
        self._known = {method: f"gateway:{family}" for method, family in known.items()}

    def __getitem__(self, method: str) -> str:
        if method in self._known:
            return self._known[method]
        family = payment_family(method)
        if family is None:
            raise KeyError(method)
        return f"gateway:{family}"

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


DEFAULT_ROUTES = GatewayRoutes(PAYMENT_FAMILIES)
