"""WooCommerce through a whole hub: signed order webhooks in, Stripe/PayPal/Square moving the money,
``api_refund: false`` write-backs and their echoes, polling for lost deliveries, manual refunds,
denials told to the customer, the install flow and forged deliveries refused at the door."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.sim import WooCommerceSimulator
from connectors.woocommerce.verify import signature
from gateways.paypal.sim import PayPalSimulator
from gateways.paypal.sim.state import paypal_id
from gateways.square.sim import SquareSimulator
from gateways.stripe.sim import StripeSimulator
from hub.db.tables import jobs as jobs_table
from hub.db.tables import stores as stores_table
from hub.ledger import states
from hub.testing.harness import HubHarness
from hub.work.janitor import CURSOR_KEY, sweep
from hub.work.runner import drain

APPROVE = {"version": "t-approve"}
# Every window closed the instant it opened: whatever is asked is denied as out of time.
DENY = {"version": "t-deny", "windows": {"mode": "exact", "default": {"days": 0, "start": "order", "grace_days": 0}}}
ROUTES = {"stripe": "gateway:stripe", "ppcp-gateway": "gateway:paypal", "square_credit_card": "gateway:square"}
# Square signs over the subscription's public URL, which the hub is told (a proxy would forward).
SQUARE_PUBLIC_URL = "https://hub.example.test/webhooks/gateway/square"
TOTAL = 3000  # the default simulator order: one 20.00 widget plus 10.00 shipping


@dataclass
class Paid:
    order: dict[str, Any]
    gateway: str
    payment: str  # the payment's id in the gateway simulator's ledger


@dataclass
class World:
    hub: HubHarness
    woo: WooCommerceSimulator
    stripe: StripeSimulator
    paypal: PayPalSimulator
    square: SquareSimulator

    @property
    def gateways(self) -> dict[str, Any]:
        return {"stripe": self.stripe, "paypal": self.paypal, "square": self.square}

    def pay(self, gateway: str = "stripe", **order: Any) -> Paid:
        """A WooCommerce order paid through ``gateway``, carrying what its WooCommerce plugin stores."""
        if gateway == "stripe":
            intent = self.stripe.create_payment(TOTAL, "USD")
            made = self.woo.add_order(
                payment_method="stripe", transaction_id=self.stripe.charge_of(intent), intent_id=intent, **order
            )
            return Paid(made, gateway, intent)
        if gateway == "paypal":
            paypal_order = paypal_id()
            capture = self.paypal.create_payment(TOTAL, "USD", order_id=paypal_order)
            made = self.woo.add_order(
                payment_method="ppcp-gateway", transaction_id=capture, paypal_order_id=paypal_order, **order
            )
            return Paid(made, gateway, capture)
        payment = self.square.create_payment(TOTAL, "USD")
        return Paid(
            self.woo.add_order(payment_method="square_credit_card", transaction_id=payment, **order), gateway, payment
        )

    def gateway_refunds(self, paid: Paid) -> list[Any]:
        return list(self.gateways[paid.gateway].ledger.refunds_of(paid.payment))

    def all_gateway_refunds(self) -> list[Any]:
        return [r for sim in self.gateways.values() for r in sim.ledger.refunds.values()]

    def senders(self) -> list[Any]:
        return [self.woo.sender, *(sim.sender for sim in self.gateways.values())]

    def settle(self, until: Callable[[], bool] | None = None) -> None:
        self.hub.settle(senders=self.senders(), until=until)

    def delivered(self) -> None:
        """Wait until every webhook the store has sent so far got its answer from the hub."""
        deadline = time.monotonic() + 10
        while any(not item.done.is_set() for item in self.woo.sender.history):
            assert time.monotonic() < deadline, "the simulator's deliveries did not finish"
            time.sleep(0.02)

    def refund_writes(self) -> list[dict[str, Any]]:
        """Every refund the hub created on WooCommerce over REST."""
        return [w for w in self.woo.writes if w["method"] == "POST" and w["path"].endswith("/refunds")]

    def actions(self, refund_id: str | None = None) -> list[str]:
        return [a.action for a in self.hub.audit(refund_id)]

    def saw(self, action: str) -> Callable[[], bool]:
        """For ``settle(until=...)``: the audit trail has ``action`` somewhere."""
        return lambda: action in self.actions()

    def woo_deliveries(self, topic: str | None = None) -> list[Any]:
        return [d for d in self.hub.deliveries() if d.connector == "woocommerce" and topic in (None, d.topic)]

    def jobs_for(self, subject_id: str) -> list[Any]:
        with self.hub.hub.engine.begin() as conn:
            return list(conn.execute(select(jobs_table).where(jobs_table.c.subject_id == subject_id)).all())


def open_world(
    tmp_path: Path,
    *,
    policy: Mapping[str, Any] = APPROVE,
    seed_webhooks: bool = True,
    with_store: bool = True,
    **store_settings: Any,
) -> Iterator[World]:
    woo = WooCommerceSimulator(seed_webhooks=seed_webhooks).start()
    stripe, paypal, square = StripeSimulator(), PayPalSimulator(), SquareSimulator(notification_url=SQUARE_PUBLIC_URL)
    for gateway in (stripe, paypal, square):
        gateway.start()
    harness = HubHarness(
        tmp_path,
        connectors={"woocommerce": woo.hub_settings()},
        gateways={
            "stripe": {"type": "stripe", **stripe.hub_settings()},
            "paypal": {"type": "paypal", **paypal.hub_settings()},
            "square": {"type": "square", **square.hub_settings()},
        },
        stores={woo.store_id: woo.store_config(routes=ROUTES, **store_settings)} if with_store else {},
        policies={"default": dict(policy)},
    )
    # the hub's URL exists only once it is served; its install links and webhooks need it
    harness.config.connectors["woocommerce"]["app_url"] = harness.url
    woo.webhook_url = f"{harness.url}/webhooks/woocommerce"
    stripe.webhook_url = f"{harness.url}/webhooks/gateway/stripe"
    paypal.webhook_url = f"{harness.url}/webhooks/gateway/paypal"
    square.webhook_url = f"{harness.url}/webhooks/gateway/square"
    try:
        yield World(harness, woo, stripe, paypal, square)
    finally:
        harness.close()
        for simulator in (woo, stripe, paypal, square):
            simulator.stop()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def body_of(delivery: Any) -> Any:
    return json.loads(delivery.body)


# -- a refund request paid through each gateway -------------------------------------------------------


@pytest.mark.parametrize("gateway", ["stripe", "paypal", "square"])
def test_request_is_refunded_once_at_its_gateway_and_written_back_once(world: World, gateway: str) -> None:
    paid = world.pay(gateway)
    order_id = paid.order["id"]
    world.woo.request_refund(order_id, "Changed my mind")
    world.settle(until=world.saw("echo_matched"))

    [refund] = world.hub.refunds()
    assert (refund.kind, refund.state, refund.route) == ("requested", states.WRITTEN_BACK, f"gateway:{gateway}")
    assert refund.source_ref == f"request:{order_id}" and refund.approved_amount == TOTAL
    [money] = world.gateway_refunds(paid)
    assert money.amount == TOTAL and money.key == refund.idempotency_key
    assert len(world.all_gateway_refunds()) == 1

    [write] = world.refund_writes()
    assert write["path"] == f"/orders/{order_id}/refunds"
    assert write["body"]["api_refund"] is False and write["body"]["amount"] == "30.00"
    meta = tx.meta(write["body"]["meta_data"])
    assert meta[tx.HUB_ID_META] == refund.id and meta[tx.HUB_GATEWAY_META] == gateway
    assert meta[tx.HUB_GATEWAY_REFUND_META] == money.id == refund.gateway_refund_id
    [record] = world.woo.shop.refunds.values()
    assert record["refunded_payment"] is False and refund.writeback_ref == str(record["id"])
    assert world.woo.money_moves == []  # WooCommerce's payment plugin was never asked
    assert world.woo.shop.orders[order_id]["status"] == "refunded"

    # the write-back's own order.updated came back, listing the record, and was matched, not executed
    request, echo = world.woo_deliveries("order.updated")
    assert body_of(request)["status"] == "refund-requested" and body_of(request)["refunds"] == []
    assert [r["id"] for r in body_of(echo)["refunds"]] == [record["id"]] and echo.status == "done"
    matched = [a for a in world.hub.audit(refund.id) if a.action == "echo_matched"]
    assert echo.id in {a.delivery_id for a in matched}
    assert "recorded" not in world.actions()

    world.settle()  # later polls and deliveries change nothing
    assert len(world.all_gateway_refunds()) == 1 and len(world.refund_writes()) == 1
    [again] = world.hub.refunds()
    assert again.state == states.WRITTEN_BACK


# -- a lost delivery is caught by the janitor's poll ----------------------------------------------------


def test_lost_request_delivery_is_found_by_one_janitor_sweep(world: World) -> None:
    paid = world.pay("stripe")
    world.settle()  # the janitor has polled once already: its cursor is set
    assert world.hub.hub.stores["woocommerce"].get_state(world.woo.store_id, CURSOR_KEY)
    world.woo.lose_deliveries(1, topic="order.updated")
    world.woo.request_refund(paid.order["id"], "Arrived damaged")
    [lost] = world.woo.lost
    assert lost.topic == "order.updated" and world.woo_deliveries() == []

    assert drain(world.hub.hub) == 0 and world.hub.refunds() == []  # nothing arrived: nothing to do
    sweep(world.hub.hub)
    [refund] = world.hub.refunds()
    assert refund.source_ref == f"request:{paid.order['id']}" and refund.state == states.APPROVED
    assert refund.delivery_id is None  # found by polling

    world.settle(until=world.saw("echo_matched"))
    [refund] = world.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert len(world.gateway_refunds(paid)) == 1 and len(world.refund_writes()) == 1


# -- refunds made in WooCommerce -----------------------------------------------------------------------


def test_merged_delivery_with_two_paid_refunds_records_both_and_executes_nothing(world: World) -> None:
    paid = world.pay("stripe")
    for hook in world.woo.shop.webhooks.values():  # only order.updated speaks: no action hook may help
        if hook["topic"] != "order.updated":
            world.woo.set_webhook_status(hook["id"], "paused")
    with world.woo.merged():  # WooCommerce's 10-minute uniqueness window collapses the order deliveries
        first = world.woo.add_manual_refund(paid.order["id"], "5.00", "Scratched", api_refund=True)
        second = world.woo.add_manual_refund(paid.order["id"], "7.00", "Late", api_refund=True)
    world.delivered()
    world.settle()

    [merged] = world.woo_deliveries()
    assert merged.topic == "order.updated" and merged.status == "done"
    assert sorted(r["id"] for r in body_of(merged)["refunds"]) == sorted([first["id"], second["id"]])
    refunds = world.hub.refunds()
    assert sorted((r.kind, r.state, r.source_ref, r.amount, r.money_moved) for r in refunds) == sorted(
        [
            ("recorded", states.RECORDED, f"refund:{first['id']}", 500, True),
            ("recorded", states.RECORDED, f"refund:{second['id']}", 700, True),
        ]
    )
    for refund in refunds:
        recorded = [a for a in world.hub.audit(refund.id) if a.action == "recorded"]
        assert [a.delivery_id for a in recorded] == [merged.id]  # the merged delivery did it
    assert world.all_gateway_refunds() == [] and world.refund_writes() == []
    assert world.woo.shop.notes[paid.order["id"]] == [] and "executing" not in world.actions()
    # the janitor's webhook check set the paused hooks active again; that is all the hub wrote
    assert {(w["method"], w["path"]) for w in world.woo.writes} == {("PUT", "/webhooks/2"), ("PUT", "/webhooks/3")}


@pytest.mark.parametrize("execute", [True, False])
def test_manual_refund_is_paid_out_only_when_the_store_says_so(tmp_path: Path, execute: bool) -> None:
    for world in open_world(tmp_path, execute_manual_refunds=execute):
        paid = world.pay("paypal")
        manual = world.woo.add_manual_refund(paid.order["id"], "12.00", "Returned by post")
        assert manual["refunded_payment"] is False
        world.delivered()
        world.settle()

        [refund] = world.hub.refunds()
        assert (refund.kind, refund.source_ref, refund.money_moved) == ("recorded", f"refund:{manual['id']}", False)
        notes = world.woo.shop.notes[paid.order["id"]]
        if execute:
            assert (refund.state, refund.route) == (states.WRITTEN_BACK, "gateway:paypal")
            [money] = world.gateway_refunds(paid)
            assert (money.amount, money.key) == (1200, refund.idempotency_key)
            # WooCommerce has the refund record already: no second refund, a private note instead
            assert world.refund_writes() == [] and len(world.woo.shop.refunds) == 1
            [note] = notes
            assert note["customer_note"] is False
            assert note["note"].startswith(f"Refund Hub paid out manual refund #{manual['id']} (12.00 USD) via paypal")
            assert refund.writeback_ref == f"note:{note['id']}"
        else:
            assert refund.state == states.RECORDED
            assert world.all_gateway_refunds() == [] and world.woo.writes == [] and notes == []
        world.settle()
        assert len(world.all_gateway_refunds()) == int(execute) and len(world.hub.refunds()) == 1


# -- a denial moves no money and is told to the customer --------------------------------------------------


def test_denied_request_moves_no_money_and_leaves_a_customer_note(tmp_path: Path) -> None:
    for world in open_world(tmp_path, policy=DENY):
        paid = world.pay("square")
        world.woo.request_refund(paid.order["id"], "Changed my mind")
        world.settle(until=world.saw("customer_notified"))

        [refund] = world.hub.refunds()
        assert refund.state == states.DENIED
        explanation = refund.decision["decision"]["explanation"]
        assert explanation
        received, denied = world.woo.shop.notes[paid.order["id"]]  # the request arrived, then the denial
        assert received["customer_note"] is True and "We received your request" in received["note"]
        assert denied["customer_note"] is True and explanation in denied["note"]
        assert world.all_gateway_refunds() == [] and world.refund_writes() == [] and world.woo.money_moves == []
        world.settle()  # the order stays in the request status; polls and repeats decide nothing again
        assert len(world.woo.shop.notes[paid.order["id"]]) == 2 and len(world.hub.refunds()) == 1


# -- install through the hub's own app --------------------------------------------------------------------


def test_install_through_the_hub_saves_encrypted_keys_and_creates_working_webhooks(tmp_path: Path) -> None:
    for world in open_world(tmp_path, seed_webhooks=False, with_store=False):
        woo, directory = world.woo, world.hub.hub.stores["woocommerce"]
        answer = requests.get(f"{world.hub.url}/install/woocommerce", params={"store_url": f"{woo.url}/"}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert f'connected to <strong class="mono">{woo.store_id}</strong>' in answer.text

        [grant] = woo.authorizations
        assert grant["accepted"] and grant["key_permissions"] == "read_write"
        store = directory.get(woo.store_id)
        assert store is not None and store.settings["url"] == woo.store_id
        assert store.credentials["consumer_secret"] == grant["consumer_secret"]
        with world.hub.hub.engine.begin() as conn:
            row = conn.execute(select(stores_table).where(stores_table.c.store_id == woo.store_id)).one()
        stored = json.dumps([str(v) for v in row])
        for secret in (grant["consumer_secret"], grant["consumer_key"], store.credentials["webhook_secret"]):
            assert secret not in stored

        hooks = sorted(woo.shop.webhooks.values(), key=lambda h: h["id"])
        assert [h["topic"] for h in hooks] == [
            "order.updated",
            "action.woocommerce_order_refunded",
            "action.woocommerce_refund_created",
        ]
        assert {h["secret"] for h in hooks} == {store.credentials["webhook_secret"]}
        assert {h["delivery_url"].split("?", 1)[0] for h in hooks} == {f"{world.hub.url}/webhooks/woocommerce"}
        world.delivered()  # the creation pings: acknowledged, stored without a job
        assert [p.status for p in woo.hooks.pings] == [200, 200, 200]
        pings = world.woo_deliveries("ping")
        assert (
            len(pings) == 3 and {d.status for d in pings} == {"ack"} and {d.store_id for d in pings} == {woo.store_id}
        )
        assert all(world.jobs_for(d.id) == [] for d in pings)

        paid = world.pay("stripe")  # no routes on an installed store: the connector's defaults apply
        world.woo.request_refund(paid.order["id"], "Changed my mind")
        world.settle(until=world.saw("echo_matched"))
        [refund] = world.hub.refunds()
        assert (refund.state, refund.route) == (states.WRITTEN_BACK, "gateway:stripe")
        assert len(world.gateway_refunds(paid)) == 1 and len(world.refund_writes()) == 1


# -- forged deliveries ----------------------------------------------------------------------------------------


def test_tampered_deliveries_are_refused_and_the_creation_ping_is_only_acknowledged(world: World) -> None:
    paid = world.pay("stripe")
    order = world.woo.shop.render_order(paid.order["id"])
    body = json.dumps({**order, "status": "refund-requested"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"{world.woo.url}/",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Signature": signature(body, world.woo.webhook_secret),
    }
    url = f"{world.hub.url}/webhooks/woocommerce"
    forged = [
        (body.replace(b'"30.00"', b'"3000.00"'), headers),  # the body changed after signing
        (body, {**headers, "X-WC-Webhook-Signature": signature(body, "someone-elses-secret")}),
        (body, {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"}),
    ]
    for raw, sent in forged:
        answer = requests.post(url, data=raw, headers=sent, timeout=10)
        assert answer.status_code == 401, answer.text
    assert world.hub.deliveries() == []

    ping = requests.post(
        url,
        params={"store": world.woo.store_id},
        data=b"webhook_id=7",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert ping.status_code == 200 and ping.json()["result"] == "ack"
    [stored] = world.hub.deliveries()
    assert (stored.topic, stored.status) == ("ping", "ack") and world.jobs_for(stored.id) == []

    # the same bytes with their own signature are taken, so the 401s were about the forgery
    assert requests.post(url, data=body, headers=headers, timeout=10).json()["result"] == "accepted"


def test_a_flood_of_unsigned_pings_is_acknowledged_but_not_stored_one_by_one(world: World) -> None:
    url = f"{world.hub.url}/webhooks/woocommerce"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with requests.Session() as session:
        for webhook_id in range(1000, 1300):
            answer = session.post(
                url, params={"store": world.woo.store_id}, data=f"webhook_id={webhook_id}", headers=form, timeout=10
            )
            assert answer.status_code == 200 and answer.json()["result"] in ("ack", "duplicate")
        for webhook_id in range(2000, 2100):  # naming no installed store
            assert session.post(url, data=f"webhook_id={webhook_id}", headers=form, timeout=10).status_code == 200
    pings = world.woo_deliveries("ping")
    assert len(pings) == 2 and {d.store_id for d in pings} == {world.woo.store_id, "unknown"}
    assert all(world.jobs_for(d.id) == [] for d in pings)
