"""Magento through a whole hub: signed pushes and polls in, Stripe or Magento itself moving the money,
offline or online credit memos written back, echoes matched, denials told, activation stored."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connectors.magento.sim import MagentoSimulator
from connectors.magento.sim.signing import sign
from connectors.magento.sim.state import MagentoFault
from connectors.magento.transformers import HUB_TAG
from connectors.magento.verify import IO_SIGNATURES
from connectors.magento.verify import WEBHOOK_SIGNATURE as HOOK_SIGNATURE
from gateways.stripe.sim import StripeSimulator
from hub.db.tables import stores as stores_table
from hub.errors import ConfigError
from hub.ledger import refunds as ledger
from hub.ledger import states
from hub.pipeline.execute import call_executor, execution_for
from hub.sandbox.registry import FACTORIES
from hub.testing.harness import HubHarness

APPROVE = {"version": "t-approve"}
# Every window closed the instant it opened: whatever is asked is denied as out of time.
DENY = {"version": "t-deny", "windows": {"mode": "exact", "default": {"days": 0, "start": "order", "grace_days": 0}}}
SIGNATURE_1, SIGNATURE_2 = IO_SIGNATURES
STRIPE_ROUTES = {"stripe_payments": "gateway:stripe"}


@dataclass
class Shop:
    hub: HubHarness
    magento: MagentoSimulator
    stripe: StripeSimulator

    def order(self, price: int = 2500, qty: int = 1, **options: Any) -> dict[str, Any]:
        """An order paid through a PaymentIntent at the Stripe simulator (unless ``method`` says otherwise)."""
        if options.get("method", "stripe_payments").startswith("stripe"):
            options.setdefault("last_trans_id", self.stripe.create_payment(price * qty, "USD"))
        return self.magento.add_order([{"sku": "TEE", "price": price, "qty": qty}], **options)

    def settle(self, until: Callable[[], bool] | None = None) -> None:
        self.hub.settle(senders=[self.magento.sender, self.stripe.sender], until=until)

    def refund(self) -> Any:
        (row,) = [r for r in self.hub.refunds() if r.kind == "requested"]
        return row

    def actions(self, refund_id: str | None = None) -> list[str]:
        return [a.action for a in self.hub.audit(refund_id)]

    def stripe_refunds(self) -> list[Any]:
        return list(self.stripe.ledger.refunds.values())

    def magento_deliveries(self) -> list[Any]:
        return [d for d in self.hub.deliveries() if d.connector == "magento"]

    def writes(self, pattern: str) -> list[Any]:
        return [w for w in self.magento.writes if w[0] == "POST" and pattern in w[1]]


class Shops:
    """Opens shops (a hub, a Magento simulator, a Stripe simulator) and closes them all at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.stack = ExitStack()

    def open(
        self,
        *,
        edition: str = "commerce",
        policy: Mapping[str, Any] = APPROVE,
        routes: Mapping[str, str] = STRIPE_ROUTES,
        engine: Any = None,
        with_credentials: bool = True,
    ) -> Shop:
        magento = MagentoSimulator(edition=edition)
        magento.start()
        self.stack.callback(magento.stop)
        stripe = StripeSimulator()
        stripe.start()
        self.stack.callback(stripe.stop)
        store = magento.store()
        harness = HubHarness(
            self.tmp_path,
            engine=engine,
            connectors={"magento": magento.hub_settings()},
            gateways={"stripe": {"type": "stripe", **stripe.hub_settings()}},
            stores={
                store["id"]: {
                    "connector": "magento",
                    "settings": store["settings"],
                    "credentials": store["credentials"] if with_credentials else {},
                    "routes": dict(routes),
                }
            },
            policies={"default": dict(policy)},
        )
        self.stack.callback(harness.close)
        if edition == "commerce":
            magento.webhook_url = f"{harness.url}/webhooks/magento"
        stripe.webhook_url = f"{harness.url}/webhooks/gateway/stripe"
        return Shop(harness, magento, stripe)


@pytest.fixture
def shops(tmp_path: Path) -> Iterator[Shops]:
    opened = Shops(tmp_path)
    with opened.stack:
        yield opened


@pytest.fixture
def shop(shops: Shops) -> Shop:
    return shops.open()


def tagged(memo: Mapping[str, Any], refund_id: str) -> bool:
    return any(f"{HUB_TAG}{refund_id}" in str(c.get("comment")) for c in memo.get("comments") or [])


def echo_matched(shop: Shop) -> bool:
    return "echo_matched" in shop.actions()


# -- Adobe Commerce: the RMA is pushed, Stripe moves the money, an offline credit memo records it --------


def test_pushed_rma_paid_by_stripe_is_refunded_once_and_written_back(any_engine: Any, shops: Shops) -> None:
    # any_engine first: the hub and simulators stop before the database goes away
    shop = shops.open(engine=any_engine)
    order = shop.order(2500, qty=2)
    rma = shop.magento.create_rma(order["entity_id"], reason="Arrived damaged")
    shop.settle(until=lambda: echo_matched(shop))

    refund = shop.refund()
    assert (refund.state, refund.route, refund.source_ref) == (
        states.WRITTEN_BACK,
        "gateway:stripe",
        f"rma:{rma['entity_id']}",
    )
    assert refund.approved_amount == 5000
    (paid,) = shop.stripe_refunds()
    assert (paid.payment_id, paid.amount, paid.key) == (order["payment"]["last_trans_id"], 5000, refund.idempotency_key)

    (memo,) = shop.magento.creditmemos(order["entity_id"])
    assert memo["transaction_id"] is None and memo["invoice_id"] is None  # offline: moved no money
    assert tagged(memo, refund.id) and refund.writeback_ref == str(memo["entity_id"])
    assert len(shop.writes("/refund")) == 1 and shop.writes("/invoice/") == []
    assert shop.magento.ledger.refunds == {}  # Magento's own payment module was never asked

    # the credit memo's save came back as an I/O Event and was recognised, not executed
    topics = sorted(d.topic for d in shop.magento_deliveries())
    assert topics == ["observer.rma_save_after", "observer.sales_order_creditmemo_save_after"]
    assert all(d.status == "done" for d in shop.magento_deliveries())
    echo = next(d for d in shop.magento_deliveries() if "creditmemo" in d.topic)
    assert any(a.action == "echo_matched" and a.delivery_id == echo.id for a in shop.hub.audit(refund.id))
    assert len(shop.hub.refunds()) == 1
    assert len(shop.stripe_refunds()) == 1 and shop.refund().state == states.WRITTEN_BACK


# -- Magento Open Source: nothing is pushed, the janitor's poll finds the request and the echo -----------


def test_polled_open_source_request_is_refunded_once_and_its_echo_found_by_the_next_poll(shops: Shops) -> None:
    shop = shops.open(edition="open_source")
    order = shop.order(1800)
    shop.magento.mark_refund_request(order["entity_id"], comment="#refund the seams came apart")
    shop.settle(until=lambda: echo_matched(shop))

    assert shop.magento.sender.history == [] and shop.magento_deliveries() == []
    refund = shop.refund()
    assert refund.state == states.WRITTEN_BACK and refund.route == "gateway:stripe"
    assert refund.source_ref.startswith(f"order:{order['increment_id']}:comment:")
    (paid,) = shop.stripe_refunds()
    assert (paid.amount, paid.key) == (1800, refund.idempotency_key)
    (memo,) = shop.magento.creditmemos(order["entity_id"])
    assert memo["transaction_id"] is None and tagged(memo, refund.id)
    echo = next(a for a in shop.hub.audit(refund.id) if a.action == "echo_matched")
    assert echo.delivery_id is None  # found by polling, not pushed
    assert echo.detail.get("source_ref") == f"creditmemo:{memo['increment_id']}"

    shop.settle()  # more polls find nothing new and move nothing
    assert len(shop.hub.refunds()) == 1 and len(shop.stripe_refunds()) == 1
    assert len(shop.magento.creditmemos(order["entity_id"])) == 1


# -- the platform route: Magento refunds online through its payment module ------------------------------

PLATFORM_ROUTES = {"braintree": "platform"}


@pytest.fixture
def platform_shop(shops: Shops) -> Shop:
    return shops.open(routes=PLATFORM_ROUTES)


def test_platform_route_makes_one_online_credit_memo_and_no_gateway_call(platform_shop: Shop) -> None:
    shop = platform_shop
    order = shop.order(3000, method="braintree", last_trans_id="bt_txn_1")
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: echo_matched(shop))

    refund = shop.refund()
    assert (refund.state, refund.route) == (states.WRITTEN_BACK, "platform")
    (memo,) = shop.magento.creditmemos(order["entity_id"])
    assert memo["transaction_id"] and memo["invoice_id"] and tagged(memo, refund.id)  # online
    (moved,) = shop.magento.ledger.refunds.values()
    assert (moved.payment_id, moved.amount, moved.id) == ("bt_txn_1", 3000, memo["transaction_id"])
    assert refund.gateway_refund_id == str(memo["entity_id"])
    assert shop.stripe_refunds() == [] and not [r for r in shop.stripe.requests if r.path.startswith("/v1/refunds")]
    assert shop.writes("/order/") == []  # no offline write-back on top

    # a repeated execution (same refund, same key) finds the credit memo instead of making another
    with shop.hub.hub.engine.begin() as conn:
        row = ledger.get(conn, refund.id)
    again = call_executor(shop.hub.hub, row, execution_for(row))
    assert (again.outcome.value, again.gateway_refund_id) == ("succeeded", str(memo["entity_id"]))
    assert len(shop.magento.creditmemos(order["entity_id"])) == 1 and len(shop.magento.ledger.refunds) == 1


def test_platform_refund_whose_answer_was_lost_is_resolved_not_repeated(platform_shop: Shop) -> None:
    shop = platform_shop
    order = shop.order(2000, method="braintree", last_trans_id="bt_txn_2")
    shop.magento.faults.add("lost_response", method="POST", path=r"/invoice/\d+/refund$")
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: shop.refund().state == states.WRITTEN_BACK)

    refund = shop.refund()
    results = [a.detail.get("outcome") for a in shop.hub.audit(refund.id) if a.action == "executor_result"]
    assert results == ["unknown", "succeeded"]  # the worker lost the answer; the janitor found the memo
    assert len(shop.magento.creditmemos(order["entity_id"])) == 1 and len(shop.magento.ledger.refunds) == 1


def test_unknown_platform_refund_without_a_trace_is_left_to_a_person_never_re_sent(platform_shop: Shop) -> None:
    shop = platform_shop
    order = shop.order(2000, method="braintree", last_trans_id="bt_txn_3")
    # a 503 to the online refund: the connector cannot know whether Magento's payment module acted
    shop.magento.faults.add("error", status=503, method="POST", path=r"/invoice/\d+/refund$")
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: bool(shop.refund().needs_person))

    refund = shop.refund()
    assert refund.state == states.UNKNOWN and refund.needs_person
    # Magento has no idempotency key and no credit memo proves the gateway did nothing: no re-send
    assert "resend_same_key" not in shop.actions(refund.id) and "needs_person" in shop.actions(refund.id)
    assert len(shop.writes("/invoice/")) == 0 and shop.magento.creditmemos(order["entity_id"]) == []
    shop.settle()  # more sweeps change nothing
    assert len(shop.writes("/invoice/")) == 0 and shop.refund().state == states.UNKNOWN


def test_online_refund_rolled_back_after_the_gateway_paid_is_never_paid_twice(shops: Shops) -> None:
    def paid_then_rolled_back(order: Mapping[str, Any], amount: int, currency: str) -> str:
        moved.append(amount)  # the gateway refunded; then Magento's save failed and rolled back
        raise MagentoFault(400, "Could not save a Creditmemo, see error log for details")

    moved: list[int] = []
    shop = shops.open(routes=PLATFORM_ROUTES)
    shop.magento.online_refund = paid_then_rolled_back
    order = shop.order(2000, method="braintree", last_trans_id="bt_txn_4")
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: bool(shop.refund().needs_person))

    refund = shop.refund()
    assert (refund.state, refund.needs_person, moved) == (states.UNKNOWN, True, [2000])
    assert "resend_same_key" not in shop.actions(refund.id)
    assert shop.magento.creditmemos(order["entity_id"]) == []  # Magento shows nothing; the money moved once


# -- a denied request: no money, the explanation on the order, the RMA declined -------------------------


def test_denied_request_moves_no_money_and_tells_the_customer_on_the_order(shops: Shops) -> None:
    shop = shops.open(policy=DENY)
    order = shop.order(2500)
    rma = shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: shop.magento.rma(rma["entity_id"])["status"] != "pending")

    refund = shop.refund()
    assert refund.state == states.DENIED
    explanation = refund.decision["decision"]["explanation"]
    assert explanation
    assert shop.stripe_refunds() == [] and shop.magento.creditmemos() == []
    assert shop.magento.ledger.refunds == {}
    comments = [h for h in shop.magento.order(order["entity_id"])["status_histories"] if HUB_TAG in h["comment"]]
    assert len(comments) == 2  # the request arrived, then the denial
    (comment,) = [h for h in comments if explanation.strip() in h["comment"]]
    assert explanation.strip() in comment["comment"] and f"{HUB_TAG}{refund.id}" in comment["comment"]
    assert comment["is_visible_on_front"] == 1 and comment["is_customer_notified"] == 1
    declined = shop.magento.rma(rma["entity_id"])
    assert declined["status"] == "denied" and {i["status"] for i in declined["items"]} == {"denied"}
    # the RMA's own save event (now denied) came back and opened nothing
    shop.settle()
    pushed = [(d.topic, d.status) for d in shop.magento_deliveries()]
    assert pushed == [("observer.rma_save_after", "done")] * 2
    assert any(a.action == "ignored" for a in shop.hub.audit())
    assert len(shop.hub.refunds()) == 1 and shop.stripe_refunds() == []


def test_denial_note_refused_once_by_magento_still_reaches_the_order(shops: Shops) -> None:
    shop = shops.open(policy=DENY)
    order = shop.order(2500)
    shop.magento.faults.add("error", status=503, method="POST", path=r"/orders/\d+/comments$")
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: shop.refund().state == states.DENIED)
    shop.settle()  # the janitor had its chances

    refund = shop.refund()
    assert shop.stripe_refunds() == []
    notes = [h for h in shop.magento.order(order["entity_id"])["status_histories"] if HUB_TAG in h["comment"]]
    assert [f"{HUB_TAG}{refund.id}" in h["comment"] for h in notes] == [True, True]  # received, denied: once each


# -- forged pushes are refused at the door ---------------------------------------------------------------


def test_tampered_pushes_are_refused_with_401_and_not_stored(shop: Shop) -> None:
    order = shop.order(2500)
    events, url = shop.magento.events, f"{shop.hub.url}/webhooks/magento"
    rma = {"entity_id": 77, "order_id": order["entity_id"], "status": "pending", "items": []}
    io_body = json.dumps(events.cloudevent("observer.rma_save_after", rma)).encode()
    io_headers = events.io_headers(io_body)
    hook_body = json.dumps({"eventName": "observer.rma_save_after", "data": {"rma": rma}}).encode()
    hook_headers = events.webhook_headers(hook_body, shop.magento.store_id)

    untrusted = sign(events.webhook_key, io_body)  # the store's Commerce Webhooks key, not an I/O Events key
    forged = [
        (io_body.replace(b'"entity_id": 77', b'"entity_id": 78'), io_headers),  # changed after signing
        (io_body, {**io_headers, SIGNATURE_1: untrusted, SIGNATURE_2: untrusted}),
        (hook_body.replace(b"pending", b"approved"), hook_headers),
        # signed over the raw body instead of its base64 form, as Commerce Webhooks never do
        (hook_body, {**hook_headers, HOOK_SIGNATURE: sign(events.webhook_key, hook_body)}),
    ]
    for body, headers in forged:
        answer = requests.post(url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 401, answer.text
    assert shop.hub.deliveries() == [] and shop.hub.refunds() == [] and shop.hub.audit() == []

    # the same bytes with their own signatures are taken (so the 401s were about the tampering)
    for body, headers in ((io_body, io_headers), (hook_body, hook_headers)):
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
    assert len(shop.hub.deliveries()) == 2


# -- activating the integration through the hub's own app ------------------------------------------------


def test_integration_activation_through_the_hub_saves_encrypted_credentials_that_work(shops: Shops) -> None:
    # The merchant declared the store (settings, routes) without credentials; activation brings them.
    shop = shops.open(with_credentials=False)
    directory = shop.hub.hub.stores["magento"]
    store_id = shop.magento.store_id
    before = directory.get(store_id)
    assert before is not None and before.credentials == {}

    result = shop.magento.activate_integration(
        f"{shop.hub.url}/install/magento/callback", f"{shop.hub.url}/install/magento/identity"
    )
    assert (result["callback_status"], result["identity_status"], result["active"]) == (200, 302, True)
    assert result["location"] == f"{shop.magento.url}/admin/admin/integration/loginSuccessCallback"

    store = directory.get(store_id)
    assert store is not None and store.credentials["consumer_key"] == result["consumer_key"]
    assert store.credentials["access_token"] not in shop.magento.credentials.values()  # a new token
    assert store.settings["io_events_provider_id"] == before.settings["io_events_provider_id"]
    assert store.routes == STRIPE_ROUTES
    with shop.hub.hub.engine.begin() as conn:
        row = conn.execute(select(stores_table).where(stores_table.c.store_id == store_id)).one()
    stored = json.dumps([str(v) for v in row])
    for secret in ("consumer_secret", "access_token", "access_token_secret"):
        assert store.credentials[secret] not in stored

    order = shop.order(1200)
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: echo_matched(shop))
    refund = shop.refund()
    assert refund.state == states.WRITTEN_BACK and len(shop.stripe_refunds()) == 1
    (memo,) = shop.magento.creditmemos(order["entity_id"])
    assert tagged(memo, refund.id)


# -- the sandbox factory: a simulator built from the hub's own configuration ----------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sandbox_factory_builds_a_simulator_that_agrees_with_the_configuration(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stripe = StripeSimulator()
    stripe.start()
    harness = HubHarness(
        tmp_path,
        connectors={"magento": {"test_mode": True, "io_events_fetch_keys": True, "io_events_key_host": base}},
        gateways={"stripe": {"type": "stripe", **stripe.hub_settings()}},
        stores={
            "sandbox-magento": {
                "connector": "magento",
                "settings": {
                    "base_url": base,
                    "edition": "commerce",
                    "io_events_provider_id": "provider-1",
                    "io_events_client_id": "client-1",
                },
                "credentials": {
                    "consumer_key": "ck-sandbox",
                    "consumer_secret": "cs-sandbox",
                    "access_token": "at-sandbox",
                    "access_token_secret": "ats-sandbox",
                },
            }
        },
        policies={"default": APPROVE},
    )
    magento = FACTORIES["magento"](harness.config, port, harness.url)
    assert isinstance(magento, MagentoSimulator)
    magento.start()
    try:
        assert magento.webhook_url == f"{harness.url}/webhooks/magento"
        shop = Shop(harness, magento, stripe)
        order = shop.order(900)
        shop.magento.create_rma(order["entity_id"])
        shop.settle(until=lambda: echo_matched(shop))
        refund = shop.refund()
        assert (refund.store_id, refund.state) == ("sandbox-magento", states.WRITTEN_BACK)
        assert len(shop.stripe_refunds()) == 1 and len(magento.creditmemos(order["entity_id"])) == 1
    finally:
        harness.close()
        magento.stop()
        stripe.stop()

    unverifiable = harness.config.model_copy(update={"connectors": {"magento": {"test_mode": True}}})
    with pytest.raises(ConfigError, match="io_events_key_host"):
        FACTORIES["magento"](unverifiable, port, "http://127.0.0.1:1")
    storeless = harness.config.model_copy(update={"stores": {}})
    with pytest.raises(ConfigError, match="no store"):
        FACTORIES["magento"](storeless, port, "http://127.0.0.1:1")
