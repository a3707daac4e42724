"""A refund paid back across tenders shows as one refund in the lists, with each tender's part on
its page and in the API (issue 19's "the console and the audit show each tender's part")."""

from __future__ import annotations

from collections.abc import Callable

from tests.connectors.shopify.test_shopify_tenders import done, gift_card_and_stripe, parts
from tests.connectors.shopify.test_shopify_through_hub import World
from tests.connectors.shopify.test_shopify_through_hub import make_world as make_world  # the through-hub fixtures
from tests.connectors.shopify.test_shopify_through_hub import stripe_sim as stripe_sim
from tests.console.conftest import PASSWORD, login

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_each_tenders_part_is_on_the_refund_not_in_the_lists(make_world: Callable[..., World]) -> None:
    w = make_world()
    shop, order, _ = gift_card_and_stripe(w)
    w.sim.request_return(order, {order.lines[0].id: 1}, reason="SIZE_TOO_SMALL")
    w.settle(until=done(w))
    parent, split = parts(w)
    assert len(split) == 2
    listed = [r["id"] for r in w.hub.client.get("/api/refunds", headers=ADMIN).json["refunds"]]
    assert listed == [parent.id]  # the parts are paid in, not refunds of their own
    shown = w.hub.client.get(f"/api/refunds/{parent.id}", headers=ADMIN).json
    assert sorted((p["tender"], p["amount"]) for p in shown["parts"]) == sorted(
        (p.request["payments"][0]["platform_label"], p.approved_amount) for p in split
    )
    w.hub.hub.accounts.add_user("ana@example.com", "Ana", "approver", PASSWORD)
    w.hub.hub.accounts.grant("ana@example.com", "shopify", shop.domain)
    client = w.hub.app.test_client()
    assert login(client, "ana@example.com").status_code == 302
    page = client.get(f"/refunds/{parent.id}").text
    assert "Paid back in parts" in page
    for part in split:
        assert part.route in page
    assert [part.id for part in split if part.id in client.get("/refunds").text] == []
