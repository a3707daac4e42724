"""Shopify through the whole hub: signed webhooks from the simulator reach ``/webhooks/shopify`` over
real HTTP, and the worker, policy, executors and write-back run for real (issue 4's "done when")."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import Engine, select

from connectors.shopify import ShopifyConnector
from connectors.shopify.settings import SUBSCRIBED_TOPICS
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.rest import shop as shop_body
from connectors.shopify.sim.state import SimShop, SimWebhook
from gateways.stripe.sim import StripeSimulator
from hub.db.tables import stores as stores_table
from hub.ledger import states
from hub.ledger.deliveries import DEAD, DONE
from hub.runtime.config import load_config
from hub.sandbox.registry import FACTORIES, build_simulators
from hub.sandbox.simserver import SimulatorServer
from hub.testing.harness import HubHarness

DENY_ALL = {
    "version": "deny-test",
    "rules": [{"name": "no-returns", "when": "true", "effect": "deny", "message": "This shop takes no returns."}],
}


@dataclass
class World:
    """A hub (its Flask app answering at ``url``), the Shopify simulator with this test's shops, Stripe."""

    hub: HubHarness
    sim: ShopifySimulator
    stripe: StripeSimulator
    url: str
    shops: list[SimShop] = field(default_factory=list)

    def settle(self, until: Callable[[], bool] | None = None, *, sweep: bool = True) -> None:
        self.hub.settle(senders=[self.sim.sender, self.stripe.sender], until=until, sweep=sweep)

    def post(self, webhook: SimWebhook, **header_changes: str) -> requests.Response:
        """Deliver a webhook the simulator signed, as a platform (or an attacker replaying it) would."""
        headers = {**webhook.headers, **header_changes}
        return requests.post(f"{self.url}/webhooks/shopify", data=webhook.body, headers=headers, timeout=10)

    def deliveries(self, topic: str, shop: SimShop | None = None) -> list[Any]:
        return [d for d in self.hub.deliveries() if d.topic == topic and (shop is None or d.store_id == shop.domain)]

    def actions(self, action: str) -> list[Any]:
        return [a for a in self.hub.audit() if a.action == action]

    def captured(self, fire: Callable[[], Any], topic: str, shop: SimShop) -> SimWebhook:
        """What ``fire`` makes the simulator sign, kept instead of sent."""
        sent_to, self.sim.webhook_url = self.sim.webhook_url, None
        try:
            fire()
        finally:
            self.sim.webhook_url = sent_to
        return self.sim.webhooks_for(topic, shop)[-1]


@pytest.fixture(scope="module")
def stripe_sim() -> Iterator[StripeSimulator]:
    simulator = StripeSimulator()
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def make_world(sim: ShopifySimulator, stripe_sim: StripeSimulator, tmp_path: Any) -> Iterator[Callable[..., World]]:
    """Builds the hub around ``shops`` fresh shops. The hub's app is served behind a front server
    started first, so its public URL (``app_url``: OAuth redirect, webhook subscriptions) is known
    before the hub's configuration is written."""
    front = Flask("hub-front")
    server = SimulatorServer(front).start()
    built: list[HubHarness] = []

    def build(
        shops: int = 1,
        *,
        policy: Mapping[str, Any] | None = None,
        engine: Engine | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> World:
        """``settings``: added to every store's settings (e.g. its ``tender_strategy``)."""
        made = [sim.add_shop(f"hub-{uuid.uuid4().hex[:8]}.myshopify.com") for _ in range(shops)]
        harness = HubHarness(
            tmp_path / f"hub{len(built)}",
            engine=engine,
            connectors={"shopify": {**sim.hub_settings(), "app_url": server.url}},
            gateways={"stripe": {"type": "stripe", **stripe_sim.hub_settings()}},
            stores={s.domain: _with_settings(sim.store_config(s), settings) for s in made},  # default routes
            policies={"default": dict(policy or {"version": "through-hub"})},
        )
        built.append(harness)
        front.wsgi_app = harness.app  # type: ignore[method-assign]
        sim.webhook_url = f"{server.url}/webhooks/shopify"
        stripe_sim.webhook_url = f"{server.url}/webhooks/gateway/stripe"
        return World(harness, sim, stripe_sim, server.url, made)

    yield build
    stripe_sim.webhook_url = None
    server.stop()
    for harness in built:
        harness.close()


def _with_settings(config: dict[str, Any], settings: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**config, "settings": {**config["settings"], **(settings or {})}}


def _only(rows: list[Any]) -> Any:
    assert len(rows) == 1, rows
    return rows[0]


def _written_back(w: World) -> Callable[[], bool]:
    return lambda: any(r.state == states.WRITTEN_BACK for r in w.hub.refunds())


def _stores_row(w: World, shop: SimShop) -> Any:
    with w.hub.hub.engine.begin() as conn:
        return conn.execute(select(stores_table).where(stores_table.c.store_id == shop.domain)).one()


# the platform route ----------------------------------------------------------------------------


def test_shopify_payments_return_is_one_refund_create_and_its_echo_executes_nothing(
    make_world: Callable[..., World], any_engine: Engine
) -> None:
    w = make_world(engine=any_engine)
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Kettle", 3900), {"title": "Filter", "price": 600, "tax": 48}])
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: bool(w.deliveries("refunds/create")))

    refund = _only(w.hub.refunds())
    assert (refund.route, refund.state, refund.approved_amount) == ("platform", states.WRITTEN_BACK, 4548)
    call = _only(w.sim.mutations("refundCreate", shop))
    assert call.key == refund.idempotency_key
    [leg] = call.variables["transactions"]
    assert (leg["kind"], leg["gateway"], leg["amount"]) == ("REFUND", "shopify_payments", "45.48")
    assert w.sim.refunded(order) == 4548
    assert refund.gateway_refund_id == _only(list(shop.refunds.values())).gid
    assert all(r.key != refund.idempotency_key for r in w.stripe.ledger.refunds.values())

    echo = _only(w.deliveries("refunds/create", shop))
    assert echo.status == DONE
    matched = _only([a for a in w.actions("echo_matched") if a.delivery_id == echo.id])
    assert matched.refund_id == refund.id
    assert len(w.hub.refunds()) == 1  # the echo opened nothing and executed nothing
    actions = [a.action for a in w.hub.audit(refund.id)]
    assert actions.count("executing") == 1 and "written_back" in actions


# a gateway route -------------------------------------------------------------------------------


def test_stripe_paid_order_is_refunded_at_stripe_and_written_back_without_moving_money(
    make_world: Callable[..., World],
) -> None:
    w = make_world()
    [shop] = w.shops
    intent = w.stripe.create_payment(4200, "USD")
    order = w.sim.add_order(shop, [("Lamp", 4200)], gateway="stripe", reference=intent)
    w.sim.request_return(order, reason="WRONG_ITEM")
    w.settle(until=lambda: bool(w.deliveries("refunds/create")))

    refund = _only(w.hub.refunds())
    assert (refund.route, refund.state, refund.approved_amount) == ("gateway:stripe", states.WRITTEN_BACK, 4200)
    at_stripe = _only(w.stripe.ledger.refunds_of(intent))
    assert (at_stripe.amount, at_stripe.key, at_stripe.id) == (4200, refund.idempotency_key, refund.gateway_refund_id)

    # the write-back: a refund record whose total is zero, plus the hub's metafield
    record = _only(w.sim.mutations("refundCreate", shop))
    # no money moves on Shopify, and Shopify sends the customer its refund e-mail
    assert record.variables["transactions"] == [] and record.variables["notify"] is True
    assert record.key != refund.idempotency_key
    shopify_refund = _only(list(shop.refunds.values()))
    assert shopify_refund.transaction_ids == []
    assert f"[refund-hub:{refund.id}]" in (shopify_refund.note or "")
    assert w.sim.refunded(order) == 0
    assert [t.kind for t in order.transactions] == ["SALE"]
    metafield = _only(w.sim.mutations("metafieldsSet", shop))
    assert json.loads(metafield.variables["metafields"][0]["value"])["gateway_refund_id"] == at_stripe.id
    assert refund.writeback_ref == shopify_refund.gid

    echo = _only(w.deliveries("refunds/create", shop))
    assert echo.status == DONE
    assert _only([a for a in w.actions("echo_matched") if a.delivery_id == echo.id]).refund_id == refund.id
    assert len(w.hub.refunds()) == 1
    assert len(w.stripe.ledger.refunds_of(intent)) == 1  # the echo did not refund again


# deliveries that must do nothing -------------------------------------------------------------


def test_a_webhook_delivered_twice_does_nothing_the_second_time(make_world: Callable[..., World]) -> None:
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Teapot", 2800)])
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=_written_back(w))
    signed = w.sim.webhooks_for("returns/request", shop)[-1]
    first_copy = next(s for s in w.sim.sender.history if s.body == signed.body)

    # Shopify's retry of the same delivery, and the same event through another subscription
    again = w.post(signed, **{"X-Shopify-Webhook-Id": first_copy.headers["X-Shopify-Webhook-Id"]})
    other = w.post(signed)
    assert [again.status_code, other.status_code] == [200, 200]
    assert again.json()["result"] == other.json()["result"] == "duplicate"
    w.settle()

    _only(w.deliveries("returns/request", shop))
    refund = _only(w.hub.refunds())
    assert refund.state == states.WRITTEN_BACK
    _only(w.sim.mutations("refundCreate", shop))
    assert w.sim.refunded(order) == 2800


def test_a_swapped_shop_header_moves_no_money_anywhere(make_world: Callable[..., World]) -> None:
    w = make_world(shops=2)
    victim, other = w.shops
    intent = w.stripe.create_payment(5100, "USD")
    order = w.sim.add_order(victim, [("Blender", 5100)], gateway="stripe", reference=intent)
    own = w.sim.add_order(other, [("Toaster", 2300)])
    signed = w.captured(lambda: w.sim.request_return(order, reason="DEFECTIVE"), "returns/request", victim)
    # the shop header is not covered by the HMAC: the same signed bytes, another installed shop
    response = w.post(signed, **{"X-Shopify-Shop-Domain": other.domain})
    assert response.status_code == 200 and response.json()["result"] == "accepted"
    uninstall = w.captured(lambda: w.sim.fire(victim, "app/uninstalled", shop_body(victim)), "app/uninstalled", victim)
    assert w.post(uninstall, **{"X-Shopify-Shop-Domain": other.domain}).status_code == 200
    w.settle(sweep=False)  # what the deliveries did; the janitor's poll would find the return itself

    assert w.hub.refunds() == []
    assert w.stripe.ledger.refunds_of(intent) == []
    assert w.sim.mutations("refundCreate", victim) == w.sim.mutations("refundCreate", other) == []
    assert w.sim.refunded(own) == 0
    swapped = _only(w.deliveries("returns/request", other))
    assert swapped.status == DONE
    why = _only([a for a in w.actions("ignored") if a.delivery_id == swapped.id])
    assert f"in {other.domain}" in why.detail["reason"]
    assert w.hub.hub.stores["shopify"].get(other.domain) is not None  # the swapped uninstall disabled nothing
    assert w.hub.hub.stores["shopify"].get(victim.domain) is not None

    # the same bytes under their own shop's header are an ordinary return
    assert w.post(signed).json()["result"] == "accepted"
    w.settle(until=_written_back(w))
    assert _only(w.stripe.ledger.refunds_of(intent)).amount == 5100


def test_signed_bodies_under_destructive_topics_disable_and_redact_nothing(
    make_world: Callable[..., World],
) -> None:
    """The topic header is not signed either: a refund or order body sent as app/uninstalled or
    customers/redact is a dead letter, and the shop's own uninstall body replayed while the app is
    installed (Shopify still answers its token) disables nothing."""
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Kettle", 3900)], email="keep.me@example.com", customer_id=424242)
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=_written_back(w))
    refund_body = w.sim.webhooks_for("refunds/create", shop)[-1]
    return_body = w.sim.webhooks_for("returns/request", shop)[-1]
    for topic in ("app/uninstalled", "shop/redact", "customers/redact"):
        for signed in (refund_body, return_body):
            assert w.post(signed, **{"X-Shopify-Topic": topic}).status_code == 200
    old_uninstall = w.captured(lambda: w.sim.fire(shop, "app/uninstalled", shop_body(shop)), "app/uninstalled", shop)
    assert w.post(old_uninstall).json()["result"] == "accepted"
    w.settle()

    assert w.hub.hub.stores["shopify"].get(shop.domain) is not None
    assert _stores_row(w, shop).enabled is True
    assert w.actions("store_uninstalled") == [] and w.actions("redacted") == []
    kept = _only(w.hub.refunds())
    assert (kept.customer_id, kept.customer_email) == ("424242", "keep.me@example.com")
    swapped = [d for t in ("shop/redact", "customers/redact") for d in w.deliveries(t, shop)]
    swapped += [d for d in w.deliveries("app/uninstalled", shop) if d.body != old_uninstall.body]
    assert len(swapped) == 6 and all(d.status == DEAD and "topic" in (d.error or "") for d in swapped)
    replayed = _only([d for d in w.deliveries("app/uninstalled", shop) if d.body == old_uninstall.body])
    assert replayed.status == DONE

    # the real uninstall: Shopify refuses the token, and the store is disabled
    w.sim.uninstall(shop)
    w.settle(until=lambda: bool(w.actions("store_uninstalled")))
    assert w.hub.hub.stores["shopify"].get(shop.domain) is None


# decisions and the store's life ---------------------------------------------------------------


def test_a_denied_request_moves_no_money_and_declines_the_return(make_world: Callable[..., World]) -> None:
    w = make_world(policy=DENY_ALL)
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Vase", 3300)])
    ret = w.sim.request_return(order, reason="UNWANTED")
    w.settle(until=lambda: bool(w.deliveries("returns/decline")))

    refund = _only(w.hub.refunds())
    assert refund.state == states.DENIED
    explanation = refund.decision["decision"]["explanation"]
    assert "This shop takes no returns." in explanation
    assert w.sim.mutations("refundCreate", shop) == []
    assert w.sim.refunded(order) == 0
    decline = _only(w.sim.mutations("returnDeclineRequest", shop))
    # the note the customer reads: the reason and what they can do next (Shopify caps it at 500)
    note = decline.variables["declineNote"]
    assert explanation in note and "What you can do next" in note and len(note) <= 500
    assert decline.variables["notifyCustomer"] is True
    assert ret.status == "DECLINED" and ret.decline is not None and ret.decline["note"] == note
    assert _only(w.deliveries("returns/decline", shop)).status == DONE


def test_uninstall_disables_the_store_and_later_deliveries_move_nothing(make_world: Callable[..., World]) -> None:
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Mixer", 8900)])
    w.sim.uninstall(shop)
    w.settle(until=lambda: bool(w.deliveries("app/uninstalled")))
    assert w.hub.hub.stores["shopify"].get(shop.domain) is None
    assert _stores_row(w, shop).enabled is False

    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: bool(w.deliveries("returns/request")))
    late = _only(w.deliveries("returns/request", shop))
    assert late.status == DEAD and "disabled" in (late.error or "")
    assert w.hub.refunds() == []
    assert w.sim.mutations("refundCreate", shop) == []
    assert w.sim.refunded(order) == 0


def test_customer_redaction_keeps_amounts_but_not_identity(
    make_world: Callable[..., World], any_engine: Engine
) -> None:
    w = make_world(engine=any_engine)
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Jacket", 12000)], email="Ada.Lovelace@example.com", customer_id=777000111)
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=_written_back(w))
    before = _only(w.hub.refunds())
    assert (before.customer_id, before.customer_email) == ("777000111", "ada.lovelace@example.com")

    w.sim.redact_customer(order)
    w.settle(until=lambda: bool(w.actions("redacted")))
    after = _only(w.hub.refunds())
    assert (after.customer_id, after.customer_email) == (None, None)
    assert after.request["customer"]["id"] is None and after.request["customer"]["email"] is None
    kept = json.dumps(after.request).lower()
    assert "lovelace" not in kept and "777000111" not in kept
    assert (after.amount, after.approved_amount, after.currency, after.state) == (
        before.amount,
        before.approved_amount,
        before.currency,
        before.state,
    )


# install through the hub's own app --------------------------------------------------------------


def test_install_through_the_hub_then_a_refund_after_the_token_expired(make_world: Callable[..., World]) -> None:
    w = make_world(shops=0)
    shop = w.sim.add_shop(f"fresh-{uuid.uuid4().hex[:8]}.myshopify.com", installed=False)

    page = requests.get(f"{w.url}/install/shopify", params={"shop": shop.domain}, timeout=10)
    assert page.status_code == 200, page.text
    hops = [r.url.split("?")[0] for r in page.history] + [page.url.split("?")[0]]
    assert hops == [
        f"{w.url}/install/shopify",
        f"{w.sim.url}/store/{shop.domain}/admin/oauth/authorize",
        f"{w.url}/install/shopify/callback",
    ]
    hub_url = f"{w.url}/webhooks/shopify"
    assert {t: shop.subscriptions.get("/".join(t.lower().rsplit("_", 1))) for t in SUBSCRIBED_TOPICS} == {
        t: [hub_url] for t in SUBSCRIBED_TOPICS
    }
    store = w.hub.hub.stores["shopify"].get(shop.domain)
    assert store is not None and store.credentials["access_token"] in shop.access_tokens
    assert store.credentials["expires"] and store.credentials["refresh_token"] in shop.refresh_tokens
    _assert_sealed(w, shop, store.credentials)

    # the hour passes early: Shopify refuses the token, the connector refreshes and saves the new pair
    w.sim.expire_tokens(shop)
    order = w.sim.add_order(shop, [("Grinder", 6400)])
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=_written_back(w))

    refund = _only(w.hub.refunds())
    assert (refund.route, refund.state) == ("platform", states.WRITTEN_BACK)
    assert w.sim.refunded(order) == 6400
    # the worker's fetch and the janitor's webhook check may each meet the dead token first: each
    # refresh saves a working pair, and no call is made with a stale one after it
    assert shop.refreshes in (1, 2)
    renewed = w.hub.hub.stores["shopify"].get(shop.domain)
    assert renewed is not None
    assert renewed.credentials["access_token"] != store.credentials["access_token"]
    assert shop.token_valid(renewed.credentials["access_token"])
    assert renewed.credentials["refresh_token"] in shop.refresh_tokens
    _assert_sealed(w, shop, renewed.credentials)


def _assert_sealed(w: World, shop: SimShop, credentials: Mapping[str, str]) -> None:
    """Nothing secret in the ``stores`` row as the database holds it."""
    row = json.dumps(dict(_stores_row(w, shop)._mapping), default=str)
    for secret in (credentials["access_token"], credentials["refresh_token"]):
        assert secret not in row


# the connector's claims and the sandbox factory -------------------------------------------------


def test_platform_lookup_reads_every_refund_and_claims_no_replay_window() -> None:
    from connectors.shopify.bodies import ORDER_QUERY

    assert ShopifyConnector.lookup_is_complete is True
    assert ShopifyConnector.replay_window is None
    assert "refunds {" in " ".join(ORDER_QUERY.split())  # no `first:` truncation of Order.refunds


def test_sandbox_factory_agrees_with_the_configured_store(tmp_path: Any) -> None:
    assert "shopify" in FACTORIES
    config = load_config(
        data={
            "hub": {"public_url": "http://127.0.0.1:8999", "instance_path": str(tmp_path)},
            "connectors": {"shopify": {"api_key": "cfg-key", "api_secret": "cfg-secret", "test_mode": True}},
            "stores": {
                "cfg-shop.myshopify.com": {"connector": "shopify", "credentials": {"access_token": "shpat_cfg"}}
            },
            "sandbox": {"ports": {"shopify": 0}},
        },
        env={},
    )
    [simulator] = build_simulators(config)
    assert isinstance(simulator, ShopifySimulator)
    assert (simulator.api_key, simulator.api_secret) == ("cfg-key", "cfg-secret")
    assert simulator.webhook_url == "http://127.0.0.1:8999/webhooks/shopify"
    assert simulator.shops["cfg-shop.myshopify.com"].token_valid("shpat_cfg")
