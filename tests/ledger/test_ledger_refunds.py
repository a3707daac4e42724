"""hub.ledger.refunds: find-or-create, compare-and-set transitions, leases, and the queries the
janitor and the pipeline ask (docs/architecture.md, invariants 1 and 3)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.errors import IllegalTransition
from hub.ledger import payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Payment
from hub.policy.history import normalize_email, payment_fingerprint
from tests.ledger.conftest import ROUTE, approved, force, get, payment_facts, request


def open_requested(conn: sa.Connection, source_ref: str = "rq-1", amount: int = 1000, **kw: str) -> str:
    return ledger.open_refund(conn, request(source_ref, amount, **kw), kind="requested", state=states.REQUESTED)[0]


def test_ids_and_idempotency_keys() -> None:
    refund_id = ledger.new_refund_id()
    assert re.fullmatch(r"rf_[0-9a-f]{24}", refund_id)
    assert ledger.new_refund_id() != refund_id
    assert ledger.idempotency_key_for(refund_id) == f"rh-{refund_id}"
    assert len(ledger.idempotency_key_for(refund_id)) <= 45  # Square's limit


def test_open_refund_stores_the_request(engine: sa.Engine) -> None:
    req = request("rq-1", 1200)
    with engine.begin() as conn:
        refund_id, created = ledger.open_refund(conn, req, kind="requested", state=states.REQUESTED)
        row = get(conn, refund_id)
    assert created is True
    assert (row.connector, row.store_id, row.source_ref, row.order_id) == ("sandbox", "s1", "rq-1", "o1")
    assert (row.kind, row.state, row.money_moved, row.amount, row.currency) == (
        "requested",
        "requested",
        False,
        1200,
        "USD",
    )
    assert row.approved_amount is None
    assert row.idempotency_key == f"rh-{refund_id}"
    assert row.gateway_refund_id is None
    assert row.request == req.model_dump(mode="json")
    assert (row.customer_id, row.customer_email) == ("c-1", normalize_email("A@x.io"))
    assert row.customer_email == "a@x.io"
    assert row.payment_fingerprint == payment_fingerprint(req.payments[0])
    assert row.delivery_id == "d-1"
    assert (row.attempts, row.needs_person, row.lease_until) == (0, False, None)
    assert row.created_at == row.updated_at
    assert row.created_at.tzinfo is not None


def test_a_recorded_refund_is_approved_for_its_amount(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, _ = ledger.open_refund(
            conn,
            request("rec-1", 700),
            kind="recorded",
            state=states.RECORDED,
            money_moved=True,
            gateway_refund_id="re_1",
        )
        row = get(conn, refund_id)
    assert (row.kind, row.state, row.money_moved, row.approved_amount, row.gateway_refund_id) == (
        "recorded",
        "recorded",
        True,
        700,
        "re_1",
    )


def test_the_same_source_opens_one_refund_per_store_and_connector(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first, created = ledger.open_refund(conn, request("rq-1"), kind="requested", state=states.REQUESTED)
        again = ledger.open_refund(conn, request("rq-1", 999), kind="requested", state=states.REQUESTED)
        other_store = ledger.open_refund(conn, request("rq-1", store_id="s2"), kind="requested", state=states.REQUESTED)
    assert created
    assert again == (first, False)
    assert other_store[1] is True
    assert other_store[0] != first


def test_find_by_gateway_refund_stays_in_the_store(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        mine = open_requested(conn, "rq-1")
        theirs = open_requested(conn, "rq-1", store_id="s2")
        ledger.set_gateway_refund_id(conn, mine, "re_1")
        ledger.set_gateway_refund_id(conn, theirs, "re_1")
        assert ledger.find_by_gateway_refund(conn, "re_1", store_id="s1").id == mine  # type: ignore[union-attr]
        assert ledger.find_by_gateway_refund(conn, "re_1", store_id="s2").id == theirs  # type: ignore[union-attr]
        assert ledger.find_by_gateway_refund(conn, "re_2", store_id="s1") is None
        ledger.set_gateway_refund_id(conn, mine, None)
        assert get(conn, mine).gateway_refund_id is None


def test_find_for_route_only_among_the_accounts_refunds(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1"))
        executed = open_requested(conn, "rq-1")
        ledger.set_payment(conn, executed, payment_id, ROUTE)
        ledger.set_gateway_refund_id(conn, executed, "re_1")
        by_payment = open_requested(conn, "rq-2")  # no route of its own: its payment's account holds it
        ledger.attach_payment(conn, by_payment, payment_id)
        ledger.set_gateway_refund_id(conn, by_payment, "re_2")
        elsewhere = open_requested(conn, "rq-3")
        ledger.set_payment(conn, elsewhere, None, "gateway:other")
        ledger.set_gateway_refund_id(conn, elsewhere, "re_3")

        def found(route: str, gateway_refund_id: str, hub_refund_id: str | None = None) -> str | None:
            row = ledger.find_for_route(conn, route, gateway_refund_id=gateway_refund_id, hub_refund_id=hub_refund_id)
            return row.id if row is not None else None

        assert found(ROUTE, "re_1") == executed
        assert found(ROUTE, "re_2") == by_payment
        assert found(ROUTE, "re_3") is None  # another account's refund
        assert found("gateway:other", "re_3") == elsewhere
        assert found("gateway:other", "re_1") is None
        assert found(ROUTE, "re_unknown", hub_refund_id=executed) == executed  # by the metadata id
        assert found(ROUTE, "re_1", hub_refund_id=by_payment) == executed  # the gateway's id comes first
        assert found(ROUTE, "re_unknown", hub_refund_id=elsewhere) is None
        assert found(ROUTE, "re_unknown") is None


def test_transition_is_a_compare_and_set(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        assert ledger.transition(conn, refund_id, states.REVIEW, expect=states.REQUESTED) is True
        assert ledger.transition(conn, refund_id, states.DENIED, expect=states.REQUESTED) is False
        assert get(conn, refund_id).state == states.REVIEW
        assert ledger.transition(conn, refund_id, states.DENIED, expect=(states.REQUESTED, states.REVIEW)) is True
        assert get(conn, refund_id).state == states.DENIED
        assert ledger.transition(conn, "rf_missing", states.REVIEW, expect=states.REQUESTED) is False


def test_transition_defaults_to_every_allowed_source(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        assert ledger.transition(conn, refund_id, states.OFFERED) is True
        assert ledger.transition(conn, refund_id, states.DENIED) is True
        assert ledger.transition(conn, refund_id, states.REVIEW) is False  # nothing leaves denied


@pytest.mark.parametrize(
    ("source", "to"), [("requested", "succeeded"), ("denied", "approved"), ("written_back", "succeeded")]
)
def test_a_forbidden_transition_raises(engine: sa.Engine, source: str, to: str) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        force(conn, refund_id, state=source)
        with pytest.raises(IllegalTransition, match=f"{source} -> {to} is not allowed"):
            ledger.transition(conn, refund_id, to, expect=source)
        with pytest.raises(IllegalTransition):
            ledger.transition(
                conn, refund_id, to, expect=(states.REQUESTED, source) if source != "requested" else source
            )
        assert get(conn, refund_id).state == source


def test_transition_sets_the_values_and_the_time(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        before = get(conn, refund_id)
        assert ledger.transition(conn, refund_id, states.REVIEW, last_error="why", attempts=ledger.NEXT_ATTEMPT)
        after = get(conn, refund_id)
        assert (after.last_error, after.attempts) == ("why", 1)
        assert after.updated_at >= before.updated_at
        assert ledger.transition(conn, refund_id, states.APPROVED, attempts=ledger.NEXT_ATTEMPT, approved_amount=9)
        assert (get(conn, refund_id).attempts, get(conn, refund_id).approved_amount) == (2, 9)


def test_transition_returning_hands_back_the_row(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        row = ledger.transition_returning(conn, refund_id, states.REVIEW, expect=states.REQUESTED, last_error="x")
        assert row is not None
        assert (row.id, row.state, row.last_error) == (refund_id, states.REVIEW, "x")
        assert ledger.transition_returning(conn, refund_id, states.DENIED, expect=states.REQUESTED) is None
        with pytest.raises(IllegalTransition):
            ledger.transition_returning(conn, refund_id, states.SUCCEEDED, expect=states.REVIEW)


def test_payment_decision_and_supersede(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1"))
        refund_id = open_requested(conn)
        ledger.set_payment(conn, refund_id, payment_id, ROUTE)
        assert (get(conn, refund_id).payment_id, get(conn, refund_id).route) == (payment_id, ROUTE)
        ledger.set_payment(conn, refund_id, None, "none")
        assert (get(conn, refund_id).payment_id, get(conn, refund_id).route) == (None, "none")
        ledger.attach_payment(conn, refund_id, payment_id)
        assert (get(conn, refund_id).payment_id, get(conn, refund_id).route) == (payment_id, "none")
        ledger.set_decision(conn, refund_id, {"decision": {"action": "approve"}}, "v-7")
        row = get(conn, refund_id)
        assert (row.decision, row.policy_version) == ({"decision": {"action": "approve"}}, "v-7")
        moved = ledger.open_refund(conn, request("rec", 5), kind="recorded", state=states.RECORDED, money_moved=True)[0]
        before = get(conn, moved).updated_at
        ledger.supersede(conn, moved)
        assert get(conn, moved).money_moved is False
        assert get(conn, moved).updated_at >= before
        assert get(conn, refund_id).money_moved is False


def test_unsettled_lists_pending_and_unknown_oldest_first(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        ids = [approved(conn, f"rq-{i}") for i in range(5)]
        base = ledger.now() - timedelta(hours=1)
        layout = [
            (states.PENDING, 3),
            (states.UNKNOWN, 1),
            (states.EXECUTING, 0),
            (states.SUCCEEDED, 0),
            (states.PENDING, 2),
        ]
        for refund_id, (state, minutes) in zip(ids, layout, strict=True):
            force(conn, refund_id, state=state, updated_at=base + timedelta(minutes=minutes))
        assert [r.id for r in ledger.unsettled(conn)] == [ids[1], ids[4], ids[0]]
        assert [r.id for r in ledger.unsettled(conn, limit=2)] == [ids[1], ids[4]]
        assert [r.id for r in ledger.unsettled(conn, limit=1)] == [ids[1]]


def test_unsettled_has_a_default_page_of_200(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for i in range(201):
            force(conn, open_requested(conn, f"rq-{i}"), state=states.PENDING)
        assert len(ledger.unsettled(conn)) == 200


def test_transition_and_supersede_mark_the_refund_updated(engine: sa.Engine) -> None:
    old = ledger.now() - timedelta(days=30)
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        force(conn, refund_id, updated_at=old)
        assert ledger.transition(conn, refund_id, states.REVIEW, expect=states.REQUESTED)
        assert get(conn, refund_id).updated_at > old + timedelta(days=29)
        recorded = ledger.open_refund(conn, request("rec", 5), kind="recorded", state=states.RECORDED, money_moved=True)
        force(conn, recorded[0], updated_at=old)
        ledger.supersede(conn, recorded[0])
        assert get(conn, recorded[0]).updated_at > old + timedelta(days=29)


def test_stuck_since_exactly_the_cutoff_is_not_stuck_yet(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        cutoff = ledger.now() - timedelta(hours=1)
        force(conn, refund_id, updated_at=cutoff)
        assert ledger.stuck(conn, cutoff) == []
        assert ledger.stuck(conn, cutoff + timedelta(microseconds=1)) == [(refund_id, states.REQUESTED)]


def test_stuck_are_requested_or_succeeded_since_before(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        ids = [approved(conn, f"rq-{i}") for i in range(4)]
        old, cutoff = ledger.now() - timedelta(hours=2), ledger.now() - timedelta(hours=1)
        for refund_id, state in zip(ids, ["requested", "succeeded", "approved", "requested"], strict=True):
            force(conn, refund_id, state=state, updated_at=old)
        force(conn, ids[3], updated_at=ledger.now())  # recent: not stuck yet
        assert sorted(ledger.stuck(conn, cutoff)) == sorted([(ids[0], "requested"), (ids[1], "succeeded")])


def test_needs_person_is_flagged_once(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_requested(conn)
        other = open_requested(conn, "rq-2")
        assert ledger.flag_needs_person(conn, refund_id) is True
        assert ledger.flag_needs_person(conn, refund_id) is False
        assert get(conn, refund_id).needs_person is True
        assert get(conn, other).needs_person is False


def test_a_refund_made_outside_the_hub_is_recorded_as_money_moved(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        payment_id = payments.upsert(conn, "s1", ROUTE, payment_facts("pay-1", 5000, currency="EUR"))
        payment = payments.lock(conn, payment_id)
        assert isinstance(payment, Payment)
        seen = {"connector": "sandbox", "source": "gateway:acct"}
        refund_id = ledger.open_outside_refund(
            conn, payment, **seen, gateway_refund_id="re_9", amount=1500, currency=None, delivery_id="d-9"
        )
        row = get(conn, refund_id)
        again = ledger.open_outside_refund(  # the same movement seen again is not counted twice
            conn, payment, **seen, gateway_refund_id="re_9", amount=1500, currency="EUR", delivery_id="d-9"
        )
        assert again == refund_id
        usd = ledger.open_outside_refund(
            conn, payment, **seen, gateway_refund_id="re_10", amount=5, currency="USD", delivery_id=None
        )
        assert get(conn, usd).currency == "USD"
        assert payments.committed(conn, payment_id) == 1505
    assert (row.kind, row.state, row.money_moved) == ("recorded", states.RECORDED, True)
    assert (row.amount, row.approved_amount, row.currency) == (1500, 1500, "EUR")
    assert (row.payment_id, row.route, row.store_id) == (payment_id, ROUTE, "s1")
    assert (row.source_ref, row.gateway_refund_id, row.delivery_id) == ("gateway:re_9", "re_9", "d-9")
    assert row.idempotency_key == f"rh-{refund_id}"
    assert (row.connector, row.order_id, row.attempts) == ("sandbox", "", 0)
    assert row.request == {"source": "gateway dashboard", "reported_by": "gateway:acct"}
