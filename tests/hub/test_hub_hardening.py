"""What outside attacks and faults found at the hub's own perimeter: money actions read their
whole body first, query strings are checked, the bearer scheme is required, health answers say
nothing of the database's errors, metrics are private by default, and a lookup that fails is
"ask again later", never "absent"."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from hub.contracts import GatewayEvent, Outcome, RefundLookup, RefundResult
from hub.ledger import outbox, payments, states
from hub.ledger import refunds as ledger
from hub.ledger.unit import open_database, read, write
from hub.models import Customer, OrderFacts, RefundRequest
from hub.pipeline.execute import take
from hub.pipeline.gateway_events import take_gateway_events
from hub.pipeline.intake import find_echo
from hub.pipeline.resolve import expire_executions, resolve_unsettled
from hub.pipeline.writeback import write_back
from hub.sandbox.gateway import SandboxGateway
from hub.testing.signing import hmac_base64
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


def test_a_write_back_has_one_owner_at_a_time(world: Any) -> None:
    """Two workers (the executor's retry and a status event's job, or two janitors) writing back
    the same succeeded refund together call the store once."""
    connector = world.hub.hub.connectors["sandbox"]
    base = type(connector)
    calls: list[str] = []
    refuse = threading.Event()
    refuse.set()

    class SlowStore(base):  # type: ignore[misc, valid-type]
        def record(self, store: Any, writeback: Any) -> Any:
            calls.append(writeback.hub_refund_id)
            if refuse.is_set():
                refuse.clear()
                raise requests.HTTPError("503 store busy")
            time.sleep(0.4)  # a slow store: the other worker arrives meanwhile
            return super().record(store, writeback)

    connector.__class__ = SlowStore
    world.order("7005", 1000)
    raw, headers = world.platform.request_refund("7005", 300, send=False)
    assert world.post(raw, headers).status_code == 200
    drain(world.hub.hub)  # decided, paid; the first write-back is refused
    [refund] = world.hub.refunds()
    assert refund.state == states.SUCCEEDED
    calls.clear()
    workers = [threading.Thread(target=write_back, args=(world.hub.hub, refund.id)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls == [refund.id]
    assert world.hub.refunds()[0].state == states.WRITTEN_BACK
    assert len([r for r in world.platform.refunds["7005"] if r.get("hub_refund_id") == refund.id]) == 1


def test_one_accounts_status_event_cannot_settle_another_accounts_refund(world: Any) -> None:
    """A (validly signed) event of gateway account "other" naming a sandbox-routed refund's ids
    moves nothing; the same event from the account that executed it does."""
    world.gateway.ledger.settle_after = 60  # stays pending at the gateway
    world.order("7006", 1000)
    world.platform.request_refund("7006", 500)
    world.hub.settle(senders=[world.platform.sender], until=lambda: bool(world.hub.refunds()))
    [refund] = world.hub.refunds()
    assert refund.state == states.PENDING
    forged = GatewayEvent(
        gateway_refund_id=refund.gateway_refund_id, outcome=Outcome.FAILED, hub_refund_id=refund.id
    )
    take_gateway_events(world.hub.hub, "other", [forged], None)
    assert world.hub.refunds()[0].state == states.PENDING
    assert any(a.action == "unmatched_status_event" for a in world.hub.audit())
    take_gateway_events(world.hub.hub, "sandbox", [forged], None)
    assert world.hub.refunds()[0].state == states.FAILED


def test_a_platform_record_naming_another_stores_refund_is_no_echo(world: Any) -> None:
    with write(world.hub.hub.engine) as conn:
        refund_id, _ = ledger.open_refund(conn, _request("other-store", "sr-1"), kind="requested", state="requested")
        echo = find_echo(conn, _request(world.platform.store_id, "sr-2", hub_refund_id=refund_id), None)
    assert echo is None


def _request(store_id: str, source_ref: str, hub_refund_id: str | None = None) -> RefundRequest:
    return RefundRequest(
        connector="sandbox",
        store_id=store_id,
        source_ref=source_ref,
        order_id="o-1",
        amount=100,
        currency="USD",
        customer=Customer(),
        order=OrderFacts(created_at=datetime(2026, 11, 1, tzinfo=UTC), currency="USD", total=100, captured=100),
        requested_at=datetime(2026, 11, 2, tzinfo=UTC),
        payments=(),
        hub_refund_id=hub_refund_id,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"topic": "refund.requested", "order_id": "7007"},  # a field missing
        {"topic": "refund.requested", "order_id": ["7007"], "request_id": {"a": 1}, "amount": "x", "reason": 1},
    ],
)
def test_a_type_confused_signed_body_is_a_dead_letter_at_once(world: Any, body: dict[str, Any]) -> None:
    """Reading the same body again fails the same way: no eight retries, one dead letter."""
    raw, headers = world.platform.webhook("refund.requested", body, send=False)
    assert world.post(raw, headers).status_code == 200
    drain(world.hub.hub)
    [delivery] = world.hub.deliveries()
    assert delivery.status == "dead"
    assert "unreadable" in delivery.error or "sandbox" in delivery.error
    with read(world.hub.hub.engine) as conn:
        assert outbox.runnable(conn) == 0


def test_a_verifier_that_cannot_read_the_body_is_a_400_not_a_500(world: Any) -> None:
    connector = world.hub.hub.connectors["sandbox"]
    base = type(connector)

    class Deep(base):  # type: ignore[misc, valid-type]
        def verify(self, inbound: Any) -> Any:
            verified = super().verify(inbound)
            json.loads(inbound.body)  # a verifier that reads the body: deep nesting raises RecursionError
            return verified

    connector.__class__ = Deep
    raw, headers = world.platform.webhook("refund.requested", {"topic": "x"}, send=False)
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {**headers, "X-Sandbox-Signature": hmac_base64(world.platform.webhook_secret, deep)}
    answer = world.post(deep, headers)
    assert (answer.status_code, answer.json["error"]) == (400, "unreadable_delivery")


def test_a_refund_that_fails_after_it_succeeded_stops_counting_and_goes_to_a_person(world: Any) -> None:
    world.order("7008", 1000)
    world.platform.request_refund("7008", 400)
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [refund] = world.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    late = GatewayEvent(gateway_refund_id=refund.gateway_refund_id, outcome=Outcome.FAILED, hub_refund_id=refund.id)
    take_gateway_events(world.hub.hub, "sandbox", [late], None)
    with read(world.hub.hub.engine) as conn:
        after = ledger.get(conn, refund.id)
        assert after is not None
        assert payments.committed(conn, after.payment_id) == 0  # the money is the merchant's again
    assert after.state == states.FAILED
    assert after.needs_person
    assert any(a.action == "failed_after_success" for a in world.hub.audit(refund.id))


def test_a_pending_refund_the_gateway_no_longer_knows_goes_to_a_person(world: Any) -> None:
    world.gateway.ledger.settle_after = 60
    world.order("7009", 1000)
    world.platform.request_refund("7009", 400)
    world.hub.settle(senders=[world.platform.sender], until=lambda: bool(world.hub.refunds()))
    [refund] = world.hub.refunds()
    assert refund.state == states.PENDING
    for payment in world.gateway.ledger.payments.values():  # the gateway lost every trace of it
        payment.refund_ids.clear()
    world.gateway.ledger.refunds.clear()
    counts = resolve_unsettled(world.hub.hub, datetime.now(UTC) + timedelta(hours=1))
    assert counts["needs_person"] == 1
    with read(world.hub.hub.engine) as conn:
        after = ledger.get(conn, refund.id)
    assert after is not None
    assert (after.state, after.needs_person) == (states.PENDING, True)
    assert world.gateway_refunds() == []  # never re-sent
