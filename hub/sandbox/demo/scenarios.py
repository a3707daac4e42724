"""What ``refund-hub demo`` plays through the embedded default's simulators, and what each scenario
must end as. Seeding goes over the simulators' ``/__sim`` control APIs (they run in another
process, ``hub.sandbox.demo.stores``); the checks ask the hub's admin API, the platform, and each gateway's
own API through its adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from hub.errors import ConfigError
from hub.models.money import format_decimal
from hub.runtime import plugins
from hub.runtime.config import Config
from hub.sandbox.demo.stores import FRONTS, Lines, Storefront

PLATFORM_LABEL = "shopify_payments"
CURRENCY = "USD"


@dataclass(frozen=True)
class Scenario:
    title: str
    lines: Lines
    label: str = PLATFORM_LABEL  # the payment label of the order (what the store's routes match)
    deliveries: int = 1  # times Shopify delivers the return's webhook
    state: str = "written_back"  # the end state expected
    store: str = "shopify"  # the connector of the store the order is placed in

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
    Scenario("WooCommerce: paid with Stripe", (("Camp stove", 6400),), "stripe", store="woocommerce"),
    Scenario("Adobe Commerce RMA: paid with Square", (("Rain jacket", 9900),), "squareup_payment", store="magento"),
)


@dataclass
class Played:
    """One scenario after seeding, then filled in with what the hub, the platform and the gateway say."""

    scenario: Scenario
    route: str  # the route the store's configuration gives the order's payment label
    order_id: str
    reference: str | None = None  # the outside gateway's payment id
    refunds: list[dict[str, Any]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)  # the platform's: what it refunded itself
    at_gateway: int | None = None  # refunded on the gateway's payment, hub minor units
    store_id: str = ""

    @property
    def gateway_account(self) -> str | None:
        return self.route.removeprefix("gateway:") if self.route.startswith("gateway:") else None

    def moved(self) -> str:
        parts = [] if self.at_gateway is None else [f"{self.gateway_account} {money(self.at_gateway)}"]
        parts.append(f"{FRONTS[self.scenario.store].title} {money(self.record.get('refunded', 0))}")
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
        records = [r["amount"] for r in self.record.get("refunds", [])]
        if self.gateway_account is None:
            expected_records = [paid_back] if paid_back else []
            platform_moved = paid_back
        else:
            expected_records = [0] if paid_back else []  # the write-back: a record that moves no money
            platform_moved = 0
            if self.at_gateway != paid_back:
                found.append(f"{self.gateway_account} refunded {self.at_gateway}, expected {paid_back}")
        if self.record.get("refunded") != platform_moved or records != expected_records:
            title = FRONTS[sc.store].title
            found.append(f"{title} moved {self.record.get('refunded')} in records {records}")
        if paid_back and (refund["route"] != self.route or not refund["gateway_refund_id"]):
            found.append(f"route {refund['route']} / refund id {refund['gateway_refund_id']}")
        return found


class Sandbox:
    """The simulators of ``config``'s ``[sandbox]`` and the first store of each platform they serve,
    seen from outside. Shopify is required (the forged delivery targets it); a platform without a
    store or simulator (a configuration from before it joined the starter) has its scenarios skipped."""

    def __init__(self, config: Config, timeout: float = 5.0) -> None:
        self.config = config
        self.timeout = timeout
        host = config.sandbox.get("host", "127.0.0.1")
        self.urls = {name: f"http://{host}:{port}" for name, port in config.sandbox.get("ports", {}).items()}
        self.fronts: dict[str, Storefront] = {}
        for store_id, store in config.stores.items():
            front = FRONTS.get(store.connector)
            if front and store.enabled and store.connector in self.urls and store.connector not in self.fronts:
                self.fronts[store.connector] = front(self.urls[store.connector], store_id, timeout)
        if "shopify" not in self.fronts:
            raise ConfigError(
                "stores", "the demo needs a Shopify store served by the simulator (refund-hub init writes one)"
            )
        self.store_id = self.fronts["shopify"].store_id
        self.scenarios = tuple(sc for sc in SCENARIOS if sc.store in self.fronts)

    def play(self, sc: Scenario) -> Played:
        front = self.fronts[sc.store]
        route = self.config.stores[front.store_id].routes.get(sc.label, "platform")
        reference = self._pay(route, sc.amount)
        order_id = front.order(sc.lines, sc.label, reference)
        front.request_refund(order_id, sc.deliveries)
        return Played(sc, route, order_id, reference, store_id=front.store_id)

    def look(self, played: Played) -> None:
        """Fill in what the platform and the gateway say happened to the order's money."""
        played.record = self.fronts[played.scenario.store].record(played.order_id)
        account = played.gateway_account
        if account is not None and played.reference is not None:
            played.at_gateway = self._refunded(account, played.reference)

    def _pay(self, route: str, amount: int) -> str | None:
        """A payment at the outside gateway the route names (None: the platform takes the money)."""
        if not route.startswith("gateway:"):
            return None
        kind = self.config.gateway_type(route.removeprefix("gateway:"))
        answer = requests.post(
            f"{self.urls[kind]}/__sim/payments", json={"amount": amount, "currency": CURRENCY}, timeout=self.timeout
        )
        answer.raise_for_status()
        return str(answer.json()["id"])

    def _refunded(self, account: str, reference: str) -> int | None:
        kind = self.config.gateway_type(account)
        try:
            gateway = plugins.load(plugins.GATEWAYS, [kind])[kind](account, self.config.gateways[account])
            return int(gateway.payment(reference).refunded)
        except Exception:  # noqa: BLE001 - the table shows the gateway as unreadable; the demo fails
            return None


def money(amount: int) -> str:
    return format_decimal(amount, CURRENCY)
