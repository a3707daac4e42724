"""Disputes through the whole hub, for Stripe, PayPal and Square: each gateway's simulator opens
and closes disputes with its own signed webhooks and dispute API, the hub holds the money.

- an open dispute on a payment holds a refund already approved but not yet sent: it goes to a
  person with the reason "open dispute" and no money moves;
- a dispute webhook marks the payment disputed at once, and the refund's read model says so;
- a won dispute lets the policy decide the held refund again (approved: refunded once); a lost
  one keeps it with the person (the bank already returned the money);
- Square's own Disputes API, read at decide without any webhook, holds a refund too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Response, request
from sqlalchemy import select

from hub.contracts import DisputeEvent, DisputeState
from hub.db.tables import payments
from hub.ledger import states
from hub.pipeline.disputes import take_dispute_events
from tests.gateways.conftest import CASES, GatewayWorld, make_gateway_world

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture(params=sorted(CASES))
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES[request.param], tmp_path)


@pytest.fixture
def square_world(tmp_path: Path) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["square"], tmp_path)


def _dispute_during_first_attempt(w: GatewayWorld, payment: str) -> dict[str, str]:
    """The bank opens a dispute while the hub's first refund call is on its way; the gateway
    refuses that call before acting (429: surely not sent), so the refund is approved again and
    waits for its retry."""
    opened: dict[str, str] = {}

    def dispute_then_refuse() -> Response | None:
        if request.method == "POST" and re.search(w.case.refund_post, request.path) and not opened:
            opened["id"] = w.sim.open_dispute(payment)
            return Response(json.dumps(w.sim.error_body(429)), status=429, mimetype="application/json")
        return None

    w.sim.app.before_request_funcs.setdefault(None, []).insert(0, dispute_then_refuse)
    return opened


def _payment_disputed(w: GatewayWorld, reference: str) -> list[bool]:
    with w.hub.hub.engine.begin() as conn:
        return [bool(r.disputed) for r in conn.execute(select(payments).where(payments.c.reference == reference))]


def _shown(w: GatewayWorld, refund_id: str) -> Any:
    """The refund as the JSON API shows it (the read model)."""
    return w.hub.client.get(f"/api/refunds/{refund_id}", headers=ADMIN).json


def _listed_disputed(w: GatewayWorld) -> list[str]:
    page: Any = w.hub.client.get("/api/refunds", headers=ADMIN).json
    return [r["id"] for r in page["refunds"] if r["disputed"]]


def test_an_open_dispute_holds_an_approved_refund_and_a_won_one_releases_it(world: GatewayWorld) -> None:
    w = world
    w.send_status_webhooks()
    payment = w.order("7001", 3000)
    opened = _dispute_during_first_attempt(w, payment)
    w.ask("7001", 3000, request_id="rq-held")
    w.settle(until=w.in_state("rq-held", states.REVIEW))

    held = w.refund("rq-held")
    assert held.state == states.REVIEW
    assert held.decision["dispute_hold"].startswith("open dispute")
    assert w.gateway_refunds(payment) == []  # no money moved
    assert "held_for_dispute" in w.actions(held.id)
    assert _payment_disputed(w, payment) == [True]
    assert _shown(w, held.id)["disputed"] is True
    assert _listed_disputed(w) == [held.id]

    w.sim.close_dispute(opened["id"], won=True)
    w.settle(until=w.in_state("rq-held", states.WRITTEN_BACK))
    done = w.refund("rq-held")
    [at_gateway] = w.gateway_refunds(payment)
    assert (done.state, done.gateway_refund_id, at_gateway.amount) == (states.WRITTEN_BACK, at_gateway.id, 3000)
    assert "dispute_hold" not in done.decision
    assert "dispute_released" in w.actions(done.id)
    assert _payment_disputed(w, payment) == [False]
    assert _shown(w, done.id)["disputed"] is False


def test_a_lost_dispute_keeps_the_refund_with_a_person(world: GatewayWorld) -> None:
    w = world
    w.send_status_webhooks()
    payment = w.order("7002", 2000)
    opened = _dispute_during_first_attempt(w, payment)
    w.ask("7002", 2000, request_id="rq-lost")
    w.settle(until=w.in_state("rq-lost", states.REVIEW))
    w.sim.close_dispute(opened["id"], won=False)
    w.settle()
    refund = w.refund("rq-lost")
    assert refund.state == states.REVIEW
    assert w.gateway_refunds(payment) == []
    lost = [a.detail for a in w.hub.audit() if a.action == "dispute_event" and a.detail["state"] == "lost"]
    assert lost
    assert all(d["payment_held"] for d in lost)
    assert _payment_disputed(w, payment) == [True]


def test_a_dispute_webhook_marks_the_payment_and_the_next_request_is_held(world: GatewayWorld) -> None:
    w = world
    w.send_status_webhooks()
    payment = w.order("7003", 5000)
    w.ask("7003", 1000, request_id="rq-before")
    w.settle(until=w.in_state("rq-before", states.WRITTEN_BACK))
    assert _payment_disputed(w, payment) == [False]

    w.sim.open_dispute(payment, 4000)
    w.settle(until=lambda: _payment_disputed(w, payment) == [True])
    assert _shown(w, w.refund("rq-before").id)["disputed"] is True  # the read model says so at once
    events = [a for a in w.hub.audit() if a.action == "dispute_event"]
    assert events
    assert all(e.detail["payment_held"] for e in events)

    w.ask("7003", 1000, request_id="rq-after")
    w.settle()
    after = w.refund("rq-after")
    assert after.state == states.DENIED  # the default policy: disputes are denied
    assert "hard.dispute" in [r["rule"] for r in after.decision["decision"]["rules"]]
    assert len(w.gateway_refunds(payment)) == 1  # only the refund before the dispute


def test_an_open_square_dispute_read_from_the_disputes_api_holds_a_refund(square_world: GatewayWorld) -> None:
    w = square_world  # no webhooks: only Square's ListDisputes tells the hub
    payment = w.order("7004", 2500)
    w.sim.open_dispute(payment)
    w.ask("7004", 2500, request_id="rq-square")
    w.settle()
    refund = w.refund("rq-square")
    assert refund.state == states.DENIED
    assert w.gateway_refunds(payment) == []
    assert "hard.dispute" in [r["rule"] for r in refund.decision["decision"]["rules"]]
    assert any(e.path == "/v2/disputes" for e in w.sim.exchanges)
    assert w.hub.deliveries() == [d for d in w.hub.deliveries() if not d.connector.startswith("gateway:")]


def test_a_dispute_while_the_call_is_out_holds_the_retry(world: GatewayWorld) -> None:
    """The worker's call is on its way when the dispute is taken in (another worker took the
    webhook): the refund is flagged; the gateway refuses the call before acting (429), and the
    retry goes to a person instead of out again."""
    w = world
    payment = w.order("7005", 1500)
    taken: list[str] = []

    def dispute_taken_meanwhile() -> Response | None:
        if request.method == "POST" and re.search(w.case.refund_post, request.path) and not taken:
            taken.append(w.sim.open_dispute(payment))  # the sim's own webhook is not pointed at the hub
            event = DisputeEvent(taken[0], payment, DisputeState.OPEN, "open", 1500, "USD", at=datetime.now(UTC))
            take_dispute_events(w.hub.hub, w.case.account, [event], None)
            return Response(json.dumps(w.sim.error_body(429)), status=429, mimetype="application/json")
        return None

    w.sim.app.before_request_funcs.setdefault(None, []).insert(0, dispute_taken_meanwhile)
    w.ask("7005", 1500, request_id="rq-in-flight")
    w.settle(until=w.in_state("rq-in-flight", states.REVIEW))
    refund = w.refund("rq-in-flight")
    assert refund.state == states.REVIEW
    assert refund.needs_person
    assert refund.decision["dispute_hold"].startswith("open dispute")
    assert "dispute_hold_pending" not in refund.decision
    assert w.actions(refund.id).count("executing") == 1  # sent once, never again
    assert w.actions(refund.id)[-1] == "held_for_dispute"
    assert w.gateway_refunds(payment) == []
