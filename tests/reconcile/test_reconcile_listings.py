"""Each gateway's ``list_refunds`` against its simulator's real list endpoint: every refund since
the time asked, across pages, once; the hub's own refunds named by their hub id; a 429 waited
out. (Stripe: GET /v1/refunds; Square: ListPaymentRefunds; PayPal: Transaction Search.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateways.paypal import PayPalGateway
from gateways.square import SquareGateway
from gateways.stripe import StripeGateway
from hub.contracts import Execution, ListingFailed, Outcome
from hub.reconcile.sources import gateway_listing, listed
from tests.gateways.conftest import CASES

ADAPTERS = {"stripe": StripeGateway, "paypal": PayPalGateway, "square": SquareGateway}
LIST_PATHS = {"stripe": r"^/v1/refunds$", "paypal": r"^/v1/reporting/transactions$", "square": r"^/v2/refunds$"}


@pytest.fixture(params=sorted(ADAPTERS))
def gateway(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any, Any]]:
    case = CASES[request.param]
    sim = case.make()
    sim.start()
    adapter = ADAPTERS[case.name](case.account, {**sim.hub_settings(), **case.settings})
    try:
        yield case.name, sim, adapter
    finally:
        sim.stop()


def _backdate(sim: Any, refund_id: str, days: float) -> None:
    sim.ledger.refunds[refund_id].created = time.time() - days * 86400


def test_every_refund_since_the_time_is_listed_once_across_pages(gateway: tuple[str, Any, Any]) -> None:
    name, sim, adapter = gateway
    case = CASES[name]
    made: dict[str, int] = {}
    for n in range(130):  # more than a page of Stripe's and Square's (100)
        payment = sim.create_payment(5000, "USD")
        refund_id = case.dashboard_refund(sim, payment, 100 + n)
        made[refund_id] = 100 + n
        if n % 3 == 0:
            _backdate(sim, refund_id, 20 + n % 40)  # PayPal reads it in another 31-day window
    old = case.dashboard_refund(sim, sim.create_payment(900, "USD"), 900)
    _backdate(sim, old, 120)  # before the period
    payment = sim.create_payment(7000, "USD")
    ours = adapter.refund(Execution("rf_hub1", "rh-rf_hub1", payment, 2500, "USD"))
    assert ours.outcome in (Outcome.SUCCEEDED, Outcome.PENDING)

    found = listed(gateway_listing(adapter, datetime.now(UTC) - timedelta(days=90)), sleep=lambda s: None)
    assert found is not None
    by_id = {refund.id: refund for refund in found}
    assert len(by_id) == len(found) == len(made) + 1  # each once, the old one left out
    assert {i: r.amount for i, r in by_id.items() if i in made} == made
    assert old not in by_id
    hub_made = by_id[str(ours.gateway_refund_id)]
    assert (hub_made.hub_refund_id, hub_made.payment_reference, hub_made.amount) == ("rf_hub1", payment, 2500)
    assert all(r.currency == "USD" and r.outcome is Outcome.SUCCEEDED for r in found if r.id in made)
    assert all(datetime.now(UTC) - timedelta(days=90) <= r.created_at <= datetime.now(UTC) for r in found)


def test_a_rate_limit_is_waited_out(gateway: tuple[str, Any, Any]) -> None:
    name, sim, adapter = gateway
    refund_id = CASES[name].dashboard_refund(sim, sim.create_payment(3000, "USD"), 1200)
    sim.faults.add("error", status=429, times=2, method="GET", path=LIST_PATHS[name])
    waits: list[float] = []
    found = listed(gateway_listing(adapter, datetime.now(UTC) - timedelta(days=1)), sleep=waits.append)
    assert [r.id for r in found or ()] == [refund_id]
    assert len(waits) == 2
    assert all(w > 0 for w in waits)


def test_a_rate_limit_that_does_not_end_fails_the_listing(gateway: tuple[str, Any, Any]) -> None:
    name, sim, adapter = gateway
    sim.faults.add("error", status=429, times=100, method="GET", path=LIST_PATHS[name])
    with pytest.raises(ListingFailed, match="rate limited"):
        listed(gateway_listing(adapter, datetime.now(UTC) - timedelta(days=1)), sleep=lambda s: None)
