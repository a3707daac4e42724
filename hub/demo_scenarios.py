"""What ``refund-hub demo`` plays through the embedded default's simulators, and what each scenario
must end as. Seeding goes over the simulators' ``/__sim`` control APIs (they run in another
process); the checks ask the hub's admin API, Shopify, and each gateway's own API through its adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from hub import plugins
from hub.config import Config, StoreConfig
from hub.errors import ConfigError
from hub.models.money import format_decimal

PLATFORM_LABEL = "shopify_payments"
CURRENCY = "USD"


@dataclass(frozen=True)
class Scenario:
    title: str
    lines: tuple[tuple[str, int], ...]  # (title, price in cents)
    label: str = PLATFORM_LABEL  # the payment label of the Shopify order
    deliveries: int = 1  # times Shopify delivers the return's webhook
    state: str = "written_back"  # the end state expected

    @property
    def amount(self) -> int:
        return sum(price for _, price in self.lines)


SCENARIOS = (
    Scenario("Shopify Payments: Shopify refunds", (("Kettle", 3900), ("Filter", 600))),
    Scenario("paid with Stripe", (("Desk lamp", 4200),), "stripe"),
    Scenario("paid with PayPal", (("Wool scarf", 2750),), "paypal"),
    Scenario("paid with Square", (("Mug set", 1850),), "square"),
    Scenario("same return delivered twice", (("Teapot", 2800),), "stripe", deliveries=2),
    Scenario("above review_above (200.00)", (("Bike rack", 35000),), state="review"),
)


@dataclass
class Played:
    """One scenario after seeding, then filled in with what the hub, Shopify and the gateway say."""

    scenario: Scenario
    route: str  # the route the store's configuration gives the order's payment label
    order_id: str
    reference: str | None = None  # the outside gateway's payment id
    refunds: list[dict[str, Any]] = field(default_factory=list)
    shopify: dict[str, Any] = field(default_factory=dict)
    at_gateway: int | None = None  # refunded on the gateway's payment, hub minor units

    @property
    def gateway_account(self) -> str | None:
        return self.route.removeprefix("gateway:") if self.route.startswith("gateway:") else None

    def moved(self) -> str:
        parts = [] if self.at_gateway is None else [f"{self.gateway_account} {money(self.at_gateway)}"]
        parts.append(f"Shopify {money(self.shopify.get('refunded', 0))}")
        return ", ".join(parts)

    def problems(self) -> list[str]:
        sc = self.scenario
        if len(self.refunds) != 1:
            return [f"{len(self.refunds)} hub refunds, expected 1"]
        refund = self.refunds[0]
        found: list[str] = []
        if refund["state"] != sc.state:
            found.append(f"state {refund['state']}, expected {sc.state}")
        paid_back = sc.amount if sc.state == "written_back" else 0
        records = [r["amount"] for r in self.shopify.get("refunds", [])]
        if self.gateway_account is None:
            expected_records = [paid_back] if paid_back else []
            shopify_moved = paid_back
        else:
            expected_records = [0] if paid_back else []  # the write-back: a record that moves no money
            shopify_moved = 0
            if self.at_gateway != paid_back:
                found.append(f"{self.gateway_account} refunded {self.at_gateway}, expected {paid_back}")
        if self.shopify.get("refunded") != shopify_moved or records != expected_records:
            found.append(f"Shopify moved {self.shopify.get('refunded')} in records {records}")
        if paid_back and (refund["route"] != self.route or not refund["gateway_refund_id"]):
            found.append(f"route {refund['route']} / refund id {refund['gateway_refund_id']}")
        return found


class Sandbox:
    """The simulators of ``config``'s ``[sandbox]`` and its first Shopify store, seen from outside."""

    def __init__(self, config: Config, timeout: float = 5.0) -> None:
        self.config = config
        self.timeout = timeout
        host = config.sandbox.get("host", "127.0.0.1")
        self.urls = {name: f"http://{host}:{port}" for name, port in config.sandbox.get("ports", {}).items()}
        self.store_id, self.store = _shopify_store(config)

    def play(self, sc: Scenario) -> Played:
        route = self.store.routes.get(sc.label, "platform")
        reference = self._pay(route, sc.amount)
        order = self._post(
            "shopify",
            "/__sim/orders",
            {
                "shop": self.store_id,
                "lines": [{"title": title, "price": price} for title, price in sc.lines],
                "gateway": sc.label,
                "reference": reference,
            },
        )
        self._post(
            "shopify",
            "/__sim/returns",
            {"shop": self.store_id, "order_id": order["id"], "reason": "DEFECTIVE", "deliveries": sc.deliveries},
        )
        return Played(sc, route, str(order["id"]), reference)

    def look(self, played: Played) -> None:
        """Fill in what Shopify and the gateway say happened to the order's money."""
        url = f"{self.urls['shopify']}/__sim/orders/{played.order_id}"
        answer = requests.get(url, params={"shop": self.store_id}, timeout=self.timeout)
        played.shopify = answer.json() if answer.ok else {}
        account = played.gateway_account
        if account is not None and played.reference is not None:
            played.at_gateway = self._refunded(account, played.reference)

    def _pay(self, route: str, amount: int) -> str | None:
        """A payment at the outside gateway the route names (None: Shopify takes the money)."""
        if not route.startswith("gateway:"):
            return None
        kind = self.config.gateway_type(route.removeprefix("gateway:"))
        return str(self._post(kind, "/__sim/payments", {"amount": amount, "currency": CURRENCY})["id"])

    def _refunded(self, account: str, reference: str) -> int | None:
        kind = self.config.gateway_type(account)
        try:
            gateway = plugins.load(plugins.GATEWAYS, [kind])[kind](account, self.config.gateways[account])
            return int(gateway.payment(reference).refunded)
        except Exception:  # the table shows the gateway as unreadable; the demo fails
            return None

    def _post(self, simulator: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.urls[simulator]}{path}", json=body, timeout=self.timeout)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result


def _shopify_store(config: Config) -> tuple[str, StoreConfig]:
    for store_id, store in config.stores.items():
        if store.connector == "shopify" and store.enabled:
            return store_id, store
    raise ConfigError("stores", "the demo needs a Shopify store served by the simulator (refund-hub init writes one)")


def money(amount: int) -> str:
    return format_decimal(amount, CURRENCY)
