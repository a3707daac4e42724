"""What outside attacks and faults found at the hub's own perimeter: money actions read their
whole body first, query strings are checked, the bearer scheme is required, health answers say
nothing of the database's errors, metrics are private by default, and a lookup that fails is
"ask again later", never "absent"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from hub.contracts import RefundLookup, RefundResult
from hub.ledger import outbox, states
from hub.ledger import refunds as ledger
from hub.ledger.unit import open_database, read, write
from hub.pipeline.execute import take
from hub.pipeline.resolve import expire_executions, resolve_unsettled
from hub.sandbox.gateway import SandboxGateway
from hub.work.runner import drain, run_job

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _in_review(world: Any, order_id: str) -> Any:
    world.order(order_id, 1000)
    world.platform.request_refund(order_id, 3500, request_id=f"rq-{order_id}")  # more than captured: review
    world.hub.settle(senders=[world.platform.sender])
    [refund] = [r for r in world.hub.refunds() if r.order_id == order_id]
    assert refund.state == states.REVIEW
    return refund


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"amount": 100, "note": "partial"', "invalid_json"),  # the missing brace refunded everything before
        (b'{"amount": true}', "invalid_body"),  # a boolean is no amount
        (b'{"amount": "100"}', "invalid_body"),
        (b'{"amount": 0}', "invalid_body"),
        (b'{"amount": 100, "amonut": 5}', "invalid_body"),  # an unknown field is a typo, not ignored
        (b"[100]", "invalid_body"),
        (b'{"note": 7}', "invalid_body"),
    ],
)
def test_a_money_action_with_a_body_it_cannot_read_does_nothing(world: Any, body: bytes, problem: str) -> None:
    refund = _in_review(world, "7001")
    answer = world.hub.client.post(
        f"/api/refunds/{refund.id}/approve", data=body, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.json["error"]) == (400, problem)
    assert answer.json["message"]
    [after] = world.hub.refunds()
    assert after.state == states.REVIEW
    assert after.approved_amount is None
    assert world.gateway_refunds() == []


def test_a_denial_takes_no_amount(world: Any) -> None:
    refund = _in_review(world, "7002")
    answer = world.hub.client.post(f"/api/refunds/{refund.id}/deny", json={"amount": 5}, headers=ADMIN)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_body")
    assert world.hub.refunds()[0].state == states.REVIEW


def test_a_readable_partial_approval_refunds_the_part(world: Any) -> None:
    refund = _in_review(world, "7003")
    answer = world.hub.client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 400}, headers=ADMIN)
    assert answer.status_code == 200
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [moved] = world.gateway_refunds()
    assert moved.amount == 400


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=501", "limit=-3", "limit=1.5"])
def test_a_bad_page_size_is_a_400_naming_it(world: Any, query: str) -> None:
    answer = world.hub.client.get(f"/api/refunds?{query}", headers=ADMIN)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_limit")


def test_the_token_needs_the_bearer_scheme(world: Any) -> None:
    assert world.hub.client.get("/api/refunds", headers={"Authorization": "test-admin-token"}).status_code == 401
    assert world.hub.client.get("/api/refunds", headers={"Authorization": "Basic test-admin-token"}).status_code == 401
    assert world.hub.client.get("/api/refunds", headers=ADMIN).status_code == 200


def test_health_tells_nothing_of_the_database_error(world: Any) -> None:
    hub = world.hub.hub
    healthy = hub.engine
    hub.engine = open_database("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")  # nothing listens
    try:
        answer = world.hub.client.get("/healthz")
    finally:
        hub.engine.dispose()
        hub.engine = healthy
    assert answer.status_code == 503
    assert answer.json == {"status": "unhealthy", "database": "unreachable"}


def test_metrics_are_private_unless_configured_public(world: Any) -> None:
    settings = world.hub.hub.config.hub
    assert world.hub.client.get("/metrics").status_code == 401
    assert world.hub.client.get("/metrics", headers=ADMIN).status_code == 200
    settings.metrics_token = "scraper-token"
    assert world.hub.client.get("/metrics", headers=ADMIN).status_code == 401
    assert world.hub.client.get("/metrics", headers={"Authorization": "Bearer scraper-token"}).status_code == 200
    settings.metrics_public = True
    assert world.hub.client.get("/metrics").status_code == 200


class LookupFails(SandboxGateway):
    """The sandbox gateway whose refund lookups break on the wire (its lookup is otherwise complete)."""

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        raise requests.ConnectionError("connection reset while asking for the refund")


def test_a_failed_lookup_is_unknown_never_absent(world: Any) -> None:
    """An ``unknown`` refund whose lookup raises must not be re-sent (a re-send is only safe when
    the executor surely has no trace), nor handed to a person as "no trace"."""
    hub = world.hub.hub
    world.order("7004", 1000)
    raw, headers = world.platform.request_refund("7004", 600, send=False)
    assert world.post(raw, headers).status_code == 200
    while True:  # take the delivery into the ledger and decide, but leave the refund job undone
        job = outbox.claim_next(hub.engine, timedelta(seconds=30))
        assert job is not None
        if job.kind == outbox.JobKind.REFUND:
            break
        run_job(hub, job.id, job.kind, job.subject_id, job.attempts)
    with write(hub.engine) as conn:
        assert take(conn, job.subject_id, timedelta(seconds=1)).claimed  # a worker took it, then died
    expire_executions(hub, datetime.now(UTC) + timedelta(seconds=5))
    hub.gateways["sandbox"] = LookupFails("sandbox", dict(hub.gateways["sandbox"].settings))
    counts = resolve_unsettled(hub, datetime.now(UTC) + timedelta(hours=1))
    assert counts["resent"] == 0
    assert counts["needs_person"] == 0
    with read(hub.engine) as conn:
        refund = ledger.get(conn, job.subject_id)
    assert refund is not None
    assert refund.state == states.UNKNOWN
    assert not refund.needs_person
    drain(hub)
    assert world.gateway_refunds() == []  # the money never moved twice — here not even once
