"""How ``refund-hub demo`` drives each simulated store over its simulator's ``/__sim`` control API:
seed an order paid through a payment label, ask for its refund the platform's own way (a Shopify
return, a WooCommerce refund-request status, an Adobe Commerce RMA), and read back what the
platform itself refunded as ``{"refunded", "refunds": [{"amount"}]}`` (money it moved, minor units)."""

from __future__ import annotations

from typing import Any, ClassVar

import requests

Lines = tuple[tuple[str, int], ...]  # (title, price in minor units)


class Storefront:
    """One simulated store of ``connector``, served by the simulator at ``url``."""

    connector: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, url: str, store_id: str, timeout: float = 5.0) -> None:
        self.url = url
        self.store_id = store_id
        self.timeout = timeout

    def order(self, lines: Lines, label: str, reference: str | None) -> str:
        raise NotImplementedError

    def request_refund(self, order_id: str, deliveries: int) -> None:
        raise NotImplementedError

    def record(self, order_id: str) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/__sim/orders/{order_id}", params=self._scope(), timeout=self.timeout)
        return dict(answer.json()) if answer.ok else {}

    def _scope(self) -> dict[str, str]:
        return {}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.url}{path}", json={**self._scope(), **body}, timeout=self.timeout)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result


class ShopifyFront(Storefront):
    connector, title = "shopify", "Shopify"

    def order(self, lines: Lines, label: str, reference: str | None) -> str:
        body = {"lines": [{"title": t, "price": p} for t, p in lines], "gateway": label, "reference": reference}
        return str(self._post("/__sim/orders", body)["id"])

    def request_refund(self, order_id: str, deliveries: int) -> None:
        self._post("/__sim/returns", {"order_id": order_id, "reason": "DEFECTIVE", "deliveries": deliveries})

    def _scope(self) -> dict[str, str]:
        return {"shop": self.store_id}


class WooCommerceFront(Storefront):
    connector, title = "woocommerce", "WooCommerce"

    def order(self, lines: Lines, label: str, reference: str | None) -> str:
        body = {"lines": [{"title": t, "price": p} for t, p in lines], "payment_method": label}
        return str(self._post("/__sim/orders", {**body, "transaction_id": reference or ""})["id"])

    def request_refund(self, order_id: str, deliveries: int) -> None:
        self._post("/__sim/refund-requests", {"order_id": order_id, "reason": "Arrived damaged"})


class MagentoFront(Storefront):
    connector, title = "magento", "Magento"

    def order(self, lines: Lines, label: str, reference: str | None) -> str:
        body = {"lines": [{"title": t, "price": p} for t, p in lines], "method": label}
        return str(self._post("/__sim/orders", {**body, "last_trans_id": reference})["id"])

    def request_refund(self, order_id: str, deliveries: int) -> None:
        self._post("/__sim/returns", {"order_id": order_id, "reason": "Wrong Size"})


FRONTS: dict[str, type[Storefront]] = {f.connector: f for f in (ShopifyFront, WooCommerceFront, MagentoFront)}
