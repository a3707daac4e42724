"""Ledger and outbox storage on SQLite and PostgreSQL: constraints, compare-and-set, locking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub.contracts import Headers, Inbound, Verified
from hub.db.migrate import upgrade
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ingest.writer import receive
from hub.ledger import audit, claims, payments, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.models import Customer, OrderFacts, Payment, RefundRequest

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def request(source_ref: str, amount: int = 1000) -> RefundRequest:
    return RefundRequest(
        connector="sandbox",
        store_id="s1",
        order_id="o1",
        source_ref=source_ref,
        customer=Customer(email="A@x.io"),
        order=OrderFacts(created_at=NOW, currency="USD", total=5000, captured=5000),
        amount=amount,
        currency="USD",
        payments=(Payment(platform_label="sandbox", reference="pay-1", captured=5000, currency="USD"),),
        requested_at=NOW,
    )


@pytest.fixture
def engine(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


def test_a_source_reference_opens_one_refund(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = ledger.open_refund(conn, request("rq-1"), kind="requested", state=states.REQUESTED)
        again = ledger.open_refund(conn, request("rq-1"), kind="requested", state=states.REQUESTED)
    assert first[1] is True
    assert again == (first[0], False)
    with engine.begin() as conn:
        row = ledger.get(conn, first[0])
    assert row.idempotency_key == f"rh-{first[0]}"
    assert len(row.idempotency_key) <= 45
    assert row.customer_email == "a@x.io"


def test_transitions_are_compare_and_set(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, _ = ledger.open_refund(conn, request("rq-2"), kind="requested", state=states.REQUESTED)
        assert ledger.transition(conn, refund_id, states.REVIEW, expect=states.REQUESTED)
        assert not ledger.transition(conn, refund_id, states.DENIED, expect=states.REQUESTED)
        with pytest.raises(IllegalTransition):
            ledger.transition(conn, refund_id, states.SUCCEEDED, expect=states.REVIEW)


def test_reservation_never_exceeds_captured_and_waits_for_unknown(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", "gateway:sandbox", request("x").payments[0])
        ids = [
            ledger.open_refund(conn, request(f"rq-r{i}", 2000), kind="requested", state=states.REQUESTED)[0]
            for i in range(3)
        ]
        payments.reserve(conn, ids[0], payment_id, 2000, expect=states.REQUESTED)
        payments.reserve(conn, ids[1], payment_id, 2000, expect=states.REQUESTED)
        with pytest.raises(OverRefund):
            payments.reserve(conn, ids[2], payment_id, 2000, expect=states.REQUESTED)
        assert payments.committed(conn, payment_id) == 4000
        assert claims.claim(conn, ids[0], timedelta(seconds=30))
        assert ledger.transition(conn, ids[0], states.UNKNOWN, expect=states.EXECUTING)
        with pytest.raises(PaymentBusy):
            payments.reserve(conn, ids[2], payment_id, 500, expect=states.REQUESTED)


def test_concurrent_reservations_stay_within_captured(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", "gateway:sandbox", request("x").payments[0])
        ids = [
            ledger.open_refund(conn, request(f"rq-c{i}", 700), kind="requested", state=states.REQUESTED)[0]
            for i in range(20)
        ]
    won: list[str] = []

    def attempt(refund_id: str) -> None:
        try:
            with engine.begin() as conn:
                payments.reserve(conn, refund_id, payment_id, 700, expect=states.REQUESTED)
            won.append(refund_id)
        except OverRefund:
            pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 5000 // 700
    with engine.begin() as conn:
        assert payments.committed(conn, payment_id) <= 5000


def test_delivery_and_job_are_stored_together_and_deduplicated(engine: sa.Engine) -> None:
    inbound = Inbound(headers=Headers({"X-A": "1"}), body=b"{}")
    verified = Verified(store_id="s1", topic="t", dedupe_key="evt-1")
    first = receive(engine, "sandbox", verified, inbound)
    second = receive(engine, "sandbox", verified, inbound)
    assert not first.duplicate
    assert second.duplicate
    assert second.delivery_id == first.delivery_id
    with engine.begin() as conn:
        assert jobs.backlog(conn)[0] == 1
    job = jobs.claim_next(engine, timedelta(seconds=30))
    assert job is not None
    assert job.subject_id == first.delivery_id
    assert jobs.claim_next(engine, timedelta(seconds=30)) is None


def test_an_expired_job_lease_can_be_claimed_again(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        jobs.add(conn, jobs.DELIVERY, "d-1")
    assert jobs.claim_next(engine, timedelta(seconds=-1)) is not None
    again = jobs.claim_next(engine, timedelta(seconds=30))
    assert again is not None
    assert again.attempts == 2


def test_audit_trail_is_append_only_and_scrubbed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        audit.write(conn, "worker", "called", refund_id="rf_1", api_key="sk_live_123", note="card 4242424242424242")
    with engine.begin() as conn:
        detail = conn.execute(sa.select(audit.audit.c.detail)).scalar_one()
    assert detail == {"api_key": "[scrubbed]", "note": "card [number]"}
    with pytest.raises(sa.exc.DatabaseError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit SET action = 'x'"))


def test_store_state_with_a_ttl_expires_and_is_pruned(engine: sa.Engine) -> None:
    """Install nonces an unauthenticated request can create must not pile up."""
    from hub.ledger.stores import DbStores, prune_expired_state
    from hub.runtime.crypto import SecretBox

    directory = DbStores(engine, SecretBox([SecretBox.generate_key()]), "sandbox")
    directory.set_state("s1", "install:a", "nonce-a", ttl=600)
    directory.set_state("s1", "install:b", "nonce-b", ttl=-1)  # already expired
    directory.set_state("s1", "poll_cursor", "c-1")
    assert directory.get_state("s1", "install:a") == "nonce-a"
    assert directory.get_state("s1", "install:b") is None
    with engine.begin() as conn:
        assert prune_expired_state(conn, datetime.now(UTC)) == 1
        assert prune_expired_state(conn, datetime.now(UTC) + timedelta(hours=1)) == 1
    assert directory.get_state("s1", "poll_cursor") == "c-1"


def test_processes_saving_the_configured_stores_together_never_collide(engine: sa.Engine) -> None:
    """Every web worker of ``serve`` saves the configuration's stores as it starts: on PostgreSQL a
    read-then-insert let two of them insert the same store (UniqueViolation on pk_stores)."""
    from hub.ledger.stores import DbStores
    from hub.runtime.crypto import SecretBox

    box = SecretBox([SecretBox.generate_key()])
    failures: list[BaseException] = []

    def save(store_id: str, n: int, start: threading.Barrier) -> None:
        directory = DbStores(engine, box, "sandbox")
        start.wait()
        try:
            directory.save(store_id, settings={"n": n}, credentials={"token": f"t{n}"}, source="config")
        except BaseException as exc:  # noqa: BLE001 - the test reports what any thread raised
            failures.append(exc)

    for round_ in range(12):  # the window between a read and an insert is short: many tries
        start = threading.Barrier(6)
        threads = [threading.Thread(target=save, args=(f"together-{round_}", n, start)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
    for round_ in range(12):
        saved = DbStores(engine, box, "sandbox").get(f"together-{round_}")
        assert saved is not None
        assert saved.credentials["token"] == f"t{saved.settings['n']}"  # one writer's whole row, not a mix
