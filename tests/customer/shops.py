"""Shops the customer pages are tested against: a WooCommerce store paid through Stripe with a
two-line order, a Magento Open Source store; both through a whole hub with e-mail to a test
SMTP server."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.magento.sim import MagentoSimulator
from connectors.woocommerce.sim import WooCommerceSimulator
from gateways.stripe.sim import StripeSimulator
from hub.testing.harness import HubHarness

APPROVE = {"version": "t-approve"}
# Every window closed the instant it opened: whatever is asked is denied as out of time.
DENY = {"version": "t-deny", "windows": {"mode": "exact", "default": {"days": 0, "start": "order", "grace_days": 0}}}
# Outside the window: store credit instead of a refund.
OFFER = {
    "version": "t-offer",
    "windows": {"mode": "exact", "default": {"days": 0, "start": "order", "grace_days": 0}},
    "alternatives": {"offer": "store_credit", "instead_of": ["window"]},
}


@dataclass
class CustomerShop:
    hub: HubHarness
    platform: Any
    stripe: StripeSimulator
    connector: str
    store_id: str

    @property
    def page(self) -> str:
        """The store's request page, as the shop links to it."""
        return f"/customer/{self.connector}/request?store={quote(self.store_id, safe='')}"

    def senders(self) -> list[Any]:
        return [self.platform.sender, self.stripe.sender]

    def settle(self, **options: Any) -> None:
        self.hub.settle(senders=self.senders(), **options)


def woo_order(shop: CustomerShop, email: str = "ana@example.com") -> dict[str, Any]:
    """Two lines: one Mug at 12.00 and two Tees at 9.00, plus 10.00 shipping (40.00), paid at Stripe."""
    woo: WooCommerceSimulator = shop.platform
    mug, tee = woo.add_product("Mug", "12.00"), woo.add_product("Tee", "9.00")
    intent = shop.stripe.create_payment(4000, "USD")
    return woo.add_order(
        [(int(mug["id"]), 1), (int(tee["id"]), 2)],
        payment_method="stripe",
        transaction_id=shop.stripe.charge_of(intent),
        intent_id=intent,
        email=email,
    )


def open_woo(stack: ExitStack, tmp_path: Path, policy: dict[str, Any], **settings: Any) -> CustomerShop:
    woo = WooCommerceSimulator().start()
    stack.callback(woo.stop)
    stripe = StripeSimulator()
    stripe.start()
    stack.callback(stripe.stop)
    harness = HubHarness(
        tmp_path / "woo",
        connectors={"woocommerce": woo.hub_settings()},
        gateways={"stripe": {"type": "stripe", **stripe.hub_settings()}},
        stores={
            woo.store_id: woo.store_config(routes={"stripe": "gateway:stripe"}, store_name="Ana's Kitchen", **settings)
        },
        policies={"default": policy},
    )
    stack.callback(harness.close)
    harness.config.connectors["woocommerce"]["app_url"] = harness.url
    woo.webhook_url = f"{harness.url}/webhooks/woocommerce"
    stripe.webhook_url = f"{harness.url}/webhooks/gateway/stripe"
    return CustomerShop(harness, woo, stripe, "woocommerce", woo.store_id)


def open_magento(stack: ExitStack, tmp_path: Path, policy: dict[str, Any]) -> CustomerShop:
    magento = MagentoSimulator(edition="open_source")
    magento.start()
    stack.callback(magento.stop)
    stripe = StripeSimulator()
    stripe.start()
    stack.callback(stripe.stop)
    store = magento.store()
    harness = HubHarness(
        tmp_path / "magento",
        connectors={"magento": magento.hub_settings()},
        gateways={"stripe": {"type": "stripe", **stripe.hub_settings()}},
        stores={
            store["id"]: {
                "connector": "magento",
                "settings": {**store["settings"], "store_name": "Open Tees"},
                "credentials": store["credentials"],
                "routes": {"stripe_payments": "gateway:stripe"},
            }
        },
        policies={"default": policy},
    )
    stack.callback(harness.close)
    stripe.webhook_url = f"{harness.url}/webhooks/gateway/stripe"
    return CustomerShop(harness, magento, stripe, "magento", store["id"])


def magento_order(shop: CustomerShop, email: str = "jo@example.com") -> dict[str, Any]:
    intent = shop.stripe.create_payment(2500, "USD")
    return shop.platform.add_order([{"sku": "TEE", "price": 2500, "qty": 1}], last_trans_id=intent, email=email)
