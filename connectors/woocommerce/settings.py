"""Default payment routes: WooCommerce ``payment_method`` ids → the hub gateway that refunds them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from connectors.woocommerce.transformers import PAYMENT_FAMILIES, payment_family


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
