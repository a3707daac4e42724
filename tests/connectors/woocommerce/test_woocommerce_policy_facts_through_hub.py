"""Issue 14's policy facts through a whole hub on WooCommerce: signed order webhooks in, the
store re-read over REST (download log, request meta), the policy deciding, the gateway moving the
money and the write-back. Downloads beyond the limit of an unlimited product, licence activations
from a licence server, a request for one line, a yen refund under the default policy, an open
Square dispute."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from hub.ledger import states
from tests.connectors.woocommerce.test_woocommerce_through_hub import World, open_world
from tests.usage.licence_server import Answer, licence_server

ONE_DOWNLOAD = {"version": "t-one-download", "digital": {"when_used": "deny", "max_downloads": 1}}
APPROVE = {"version": "t-approve"}
a_world = contextmanager(open_world)  # one hub, store and gateways for a test with its own settings


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path, policy=ONE_DOWNLOAD)


def _stripe_order(
    w: World, lines: Sequence[tuple[int, int]], total: int, currency: str = "USD", **order: Any
) -> dict[str, Any]:
    """A WooCommerce order paid at Stripe for exactly its total (the gateway holds what it captured)."""
    intent = w.stripe.create_payment(total, currency)
    made = w.woo.add_order(
        list(lines),
        payment_method="stripe",
        transaction_id=w.stripe.charge_of(intent),
        intent_id=intent,
        currency=currency,
        **order,
    )
    made["_intent"] = intent
    return made


def _only(rows: Sequence[Any]) -> Any:
    assert len(rows) == 1, rows
    return rows[0]


def _decision(refund: Any) -> Mapping[str, Any]:
    return refund.decision["decision"]


def _written_back(w: World) -> bool:
    return any(r.state == states.WRITTEN_BACK for r in w.hub.refunds())


def test_a_digital_line_downloaded_too_often_is_kept_while_its_physical_sibling_is_refunded(world: World) -> None:
    w = world
    ebook = w.woo.add_product("Field guide (PDF)", "12.00", virtual=True, downloadable=True)  # unlimited downloads
    lamp = w.woo.add_product("Desk lamp", "20.00")
    order = _stripe_order(w, [(ebook["id"], 1), (lamp["id"], 1)], 4200, customer_id=31)  # + 10.00 shipping
    w.woo.download(order["id"], ebook["id"], times=3)
    w.woo.request_refund(order["id"], "Changed my mind")
    w.settle(until=lambda: _written_back(w))

    refund = _only(w.hub.refunds())
    assert (refund.state, refund.approved_amount) == (states.WRITTEN_BACK, 3000)  # the lamp and the shipping
    decision = _decision(refund)
    assert decision["action"] == "approve_partial"
    used = _only([hit for hit in decision["rules"] if hit["rule"] == "digital.used"])
    assert "downloaded 3 time(s), more than 1" in used["detail"]
    assert "“Field guide (PDF)” has already been downloaded or used." in decision["explanation"]
    assert dict(decision["line_amounts"]) == {
        str(order["line_items"][0]["id"]): 0,
        str(order["line_items"][1]["id"]): 2000,
    }
    assert [r.amount for r in w.stripe.ledger.refunds_of(order["_intent"])] == [3000]
    [write] = w.refund_writes()
    assert [int(item["id"]) for item in write["body"]["line_items"] if item.get("quantity")] == [
        order["line_items"][1]["id"]
    ]


def test_licence_activations_from_the_merchants_licence_server_keep_a_used_licence(tmp_path: Path) -> None:
    with licence_server() as licences:
        template = licences.url + "/orders/{order_id}/lines/{line_id}"
        with a_world(tmp_path, policy=ONE_DOWNLOAD, usage_providers=["http"], usage_url=template) as w:
            key = w.woo.add_product("Editor licence", "30.00", virtual=True, downloadable=True)
            mug = w.woo.add_product("Mug", "8.00")
            order = _stripe_order(w, [(key["id"], 1), (mug["id"], 1)], 4800, customer_id=32)
            key_line = order["line_items"][0]["id"]
            licences.answers[f"/orders/{order['id']}/lines/{key_line}"] = Answer(body={"activations": 2})
            w.woo.request_refund(order["id"], "Not what I expected")
            w.settle(until=lambda: _written_back(w))

            refund = _only(w.hub.refunds())
            assert (refund.state, refund.approved_amount) == (states.WRITTEN_BACK, 1800)  # the mug and shipping
            [line] = [line for line in refund.request["lines"] if line["line_id"] == str(key_line)]
            assert line["usage"]["activations"] == 2  # stored with the request, as the policy saw it
            used = _only([hit for hit in _decision(refund)["rules"] if hit["rule"] == "digital.used"])
            assert "licence activated 2 time(s)" in used["detail"]
            # asked about the licence only (once per reading of the request: webhook, action, poll)
            assert {seen["path"] for seen in licences.seen} == {f"/orders/{order['id']}/lines/{key_line}"}


def test_a_request_for_one_line_refunds_that_line_only(tmp_path: Path) -> None:
    with a_world(tmp_path, policy=APPROVE) as w:
        book = w.woo.add_product("Book", "20.00")
        mug = w.woo.add_product("Mug", "8.50")
        order = _stripe_order(w, [(book["id"], 1), (mug["id"], 2)], 4700)  # 20.00 + 17.00 + 10.00 shipping
        mugs = order["line_items"][1]["id"]
        asked = {"lines": [{"line_item_id": mugs, "quantity": 1}], "reason": "One arrived chipped"}
        w.woo.request_refund(order["id"], asked=asked)
        w.settle(until=lambda: _written_back(w))

        refund = _only(w.hub.refunds())
        assert (refund.state, refund.amount, refund.approved_amount) == (states.WRITTEN_BACK, 850, 850)
        assert [(line["line_id"], line["quantity"]) for line in refund.request["lines"]] == [(str(mugs), 1)]
        assert [r.amount for r in w.stripe.ledger.refunds_of(order["_intent"])] == [850]
        [write] = w.refund_writes()
        assert write["body"]["amount"] == "8.50"
        refunded_items = [(int(i["id"]), i["quantity"]) for i in write["body"]["line_items"] if i.get("quantity")]
        assert refunded_items == [(mugs, 1)]
        assert w.woo.shop.orders[order["id"]]["status"] != "refunded"  # the rest of the order stands


def test_a_yen_refund_of_a_few_thousand_yen_is_approved_under_the_default_policy(tmp_path: Path) -> None:
    with a_world(tmp_path, policy={}) as w:  # the store names no policy: the default one decides
        teapot = w.woo.add_product("Tetsubin teapot", "4800")
        order = _stripe_order(w, [(teapot["id"], 1)], 4800, currency="JPY", shipping="0")
        w.woo.request_refund(order["id"], "Changed my mind")
        w.settle(until=lambda: _written_back(w))

        refund = _only(w.hub.refunds())
        assert (refund.state, refund.currency, refund.approved_amount) == (states.WRITTEN_BACK, "JPY", 4800)
        assert _decision(refund)["action"] == "approve"
        assert "amount.review_above" not in [hit["rule"] for hit in _decision(refund)["rules"]]
        [money] = w.stripe.ledger.refunds_of(order["_intent"])
        assert (money.amount, money.currency.upper()) == (4800, "JPY")


@pytest.mark.parametrize(("dispute", "state"), [("deny", states.DENIED), ("review", states.REVIEW)])
def test_an_open_square_dispute_holds_the_refund(tmp_path: Path, dispute: str, state: str) -> None:
    with a_world(tmp_path, policy={"version": "t-dispute", "hard": {"dispute": dispute}}) as w:
        paid = w.pay("square")
        w.square.open_dispute(paid.payment)
        w.woo.request_refund(paid.order["id"], "Never arrived")
        w.settle(until=lambda: bool(w.hub.refunds()) and w.hub.refunds()[0].state == state)

        refund = _only(w.hub.refunds())
        assert refund.state == state
        hit = _only([hit for hit in _decision(refund)["rules"] if hit["rule"] == "hard.dispute"])
        assert hit["effect"] == dispute
        assert paid.payment in hit["detail"]
        assert w.gateway_refunds(paid) == [] and w.refund_writes() == []  # no money moved anywhere


def test_what_the_store_cannot_tell_is_counted_by_rule_and_connector(world: World) -> None:
    w = world
    labels = {"rule": "digital.activations", "connector": "woocommerce"}
    before = REGISTRY.get_sample_value("refund_hub_policy_unknown_inputs_total", labels) or 0
    ebook = w.woo.add_product("Album", "9.00", virtual=True, downloadable=True, download_limit=5)
    order = _stripe_order(w, [(ebook["id"], 1)], 1900, customer_id=33)
    w.woo.request_refund(order["id"], "Changed my mind")
    w.settle(until=lambda: _written_back(w))

    refund = _only(w.hub.refunds())
    assert refund.approved_amount == 1900  # not downloaded: refunded, activations unknown
    unknown = [hit["rule"] for hit in _decision(refund)["rules"] if hit["rule"].startswith("unknown.")]
    assert unknown == ["unknown.digital.activations"]
    assert "We could not check the licence activations of “Album”: the store" in _decision(refund)["explanation"]
    assert REGISTRY.get_sample_value("refund_hub_policy_unknown_inputs_total", labels) == before + 1
