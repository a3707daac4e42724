"""hub.ledger.tenders: a refund on an order paid more than one way is split into parts, one per
tender, each on its own balance and key; the platform's suggestion wins, else the store's
strategy; the parts' outcomes add up to the refund's (partly failed is visible and resolvable)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.db.tables import jobs
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ledger import payments, states, tenders
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.ledger.tenders import Tender, allocate
from hub.models import Payment, TenderKind
from tests.ledger.conftest import force, get, request

GIFT = Payment(platform_label="gift_card", reference="gc-1", captured=3000, currency="USD", tender=TenderKind.GIFT_CARD)
CARD = Payment(platform_label="stripe", reference="pi_1", captured=7000, currency="USD")


# allocation ----------------------------------------------------------------------------------


def test_the_platforms_suggestion_is_followed_exactly_for_the_amount_it_was_made_for() -> None:
    split = allocate(4000, [Tender("gift_card", 3000, 1000), Tender("payment", 7000, 3000)], tenders.CREDIT_FIRST)
    assert split == [1000, 3000]


def test_less_than_suggested_is_scaled_by_largest_remainder_and_more_is_topped_up_by_strategy() -> None:
    assert allocate(1001, [Tender("gift_card", 3000, 1000), Tender("payment", 7000, 1000)]) == [501, 500]
    topped = allocate(5000, [Tender("gift_card", 3000, 1000), Tender("payment", 7000, 3000)], tenders.CREDIT_FIRST)
    assert topped == [2000, 3000]


def test_a_suggestion_never_goes_past_a_tenders_balance() -> None:
    assert allocate(4000, [Tender("gift_card", 500, 1000), Tender("payment", 7000, 3000)], tenders.IN_ORDER) == [
        500,
        3500,
    ]


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (tenders.CREDIT_FIRST, [3000, 1000]),
        (tenders.CARD_FIRST, [0, 4000]),
        (tenders.PROPORTIONAL, [1200, 2800]),
        (tenders.IN_ORDER, [3000, 1000]),
    ],
)
def test_each_strategy_where_the_platform_suggests_nothing(strategy: str, expected: list[int]) -> None:
    assert allocate(4000, [Tender("gift_card", 3000), Tender("payment", 7000)], strategy) == expected


def test_proportional_splits_add_up_exactly() -> None:
    split = allocate(1000, [Tender("payment", 3333), Tender("payment", 3333), Tender("payment", 3334)])
    assert sum(split) == 1000
    assert split == [333, 333, 334]


def test_more_than_every_tender_together_is_refused() -> None:
    with pytest.raises(OverRefund, match="all tenders"):
        allocate(10_001, [Tender("gift_card", 3000), Tender("payment", 7000)])
    with pytest.raises(ValueError, match="strategy"):
        allocate(1, [Tender("payment", 7000)], "cheapest")


# reserving the parts ---------------------------------------------------------------------------


def split_request(source_ref: str, amount: int) -> object:
    return request(source_ref, amount).model_copy(update={"payments": (GIFT, CARD)})


def open_split(conn: sa.Connection, source_ref: str, amount: int, strategy: str = tenders.CREDIT_FIRST) -> str:
    refund_id, _ = ledger.open_refund(conn, split_request(source_ref, amount), kind="requested", state="requested")  # type: ignore[arg-type]
    gift = payments.upsert(conn, "s1", "platform", GIFT)
    card = payments.upsert(conn, "s1", "gateway:stripe", CARD)
    ledger.set_payment(conn, refund_id, gift, "platform")
    tenders.save_plan(conn, refund_id, [(gift, "platform"), (card, "gateway:stripe")], strategy)
    return refund_id


def reserved(conn: sa.Connection, source_ref: str = "rq-1", amount: int = 4000) -> tuple[str, list[Refund]]:
    """A split refund reserved across both tenders, and its parts."""
    refund_id = open_split(conn, source_ref, amount)
    payments.reserve(conn, refund_id, 0, amount, expect=states.REQUESTED)
    return refund_id, tenders.parts_of(conn, refund_id)


def test_a_refund_larger_than_one_tender_is_split_into_parts_with_their_own_keys(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 4000)
        payments.reserve(conn, refund_id, get(conn, refund_id).payment_id or 0, 4000, expect=states.REQUESTED)
        parent = get(conn, refund_id)
        parts = tenders.parts_of(conn, refund_id)
        queued = conn.execute(sa.select(jobs.c.subject_id).where(jobs.c.kind == "refund")).scalars().all()
    assert (parent.state, parent.payment_id, parent.route, parent.approved_amount) == (
        "executing",
        None,
        "tenders",
        4000,
    )
    assert [(p.route, p.approved_amount, p.state) for p in parts] == [
        ("platform", 3000, "approved"),
        ("gateway:stripe", 1000, "approved"),
    ]
    assert len({p.idempotency_key for p in parts} | {parent.idempotency_key}) == 3
    assert sorted(queued) == sorted(p.id for p in parts)  # each part runs as its own execution
    assert [len(p.request["lines"]) for p in parts] == [0, 0]
    assert parts[0].request["payments"][0]["reference"] == "gc-1"
    assert parts[1].request["amount"] == 1000
    assert parts[0].customer_email is None  # the history counts the refund once, by its parent


def test_each_part_counts_against_its_own_tender_only(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        reserved(conn)
        gift = payments.upsert(conn, "s1", "platform", GIFT)
        card = payments.upsert(conn, "s1", "gateway:stripe", CARD)
        assert (payments.committed(conn, gift), payments.committed(conn, card)) == (3000, 1000)
        second = open_split(conn, "rq-2", 6001)
        with pytest.raises(OverRefund, match="6000"):
            payments.reserve(conn, second, 0, 6001, expect=states.REQUESTED)
        payments.reserve(conn, second, 0, 6000, expect=states.REQUESTED)
        assert [p.approved_amount for p in tenders.parts_of(conn, second)] == [6000]  # the gift card is used up


def test_a_part_in_doubt_holds_a_new_refund_on_that_tender(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _, (_, card) = reserved(conn)
        force(conn, card.id, state=states.UNKNOWN)
        second = open_split(conn, "rq-2", 500)
        with pytest.raises(PaymentBusy):
            payments.reserve(conn, second, 0, 500, expect=states.REQUESTED)


# how the parts add up ----------------------------------------------------------------------------


def test_the_refund_follows_its_parts_to_written_back(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = reserved(conn)
        force(conn, gift.id, state=states.SUCCEEDED)
        assert tenders.roll_up(conn, refund_id) == states.EXECUTING  # the card part is still out
        force(conn, card.id, state=states.SUCCEEDED)
        assert tenders.roll_up(conn, refund_id) == states.SUCCEEDED
        force(conn, gift.id, state=states.WRITTEN_BACK, writeback_ref="r1")
        force(conn, card.id, state=states.WRITTEN_BACK, writeback_ref="r2")
        assert tenders.roll_up(conn, refund_id) == states.WRITTEN_BACK
        assert get(conn, refund_id).writeback_ref == "r1,r2"


def test_a_partly_failed_refund_is_flagged_and_a_retry_moves_only_the_failed_part(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = reserved(conn)
        force(conn, gift.id, state=states.SUCCEEDED)
        force(conn, card.id, state=states.FAILED, last_error="card expired")
        assert tenders.roll_up(conn, refund_id) == states.EXECUTING
        assert get(conn, refund_id).needs_person
        seen = tenders.summary(conn, refund_id)
        assert seen["partly_failed"]
        assert seen["moved"] == 3000
        [retry] = tenders.retry_failed(conn, refund_id, "admin:ann")
        assert not get(conn, refund_id).needs_person
        again = get(conn, retry)
        assert (again.route, again.approved_amount, again.state) == ("gateway:stripe", 1000, "approved")
        assert again.idempotency_key != card.idempotency_key
        force(conn, retry, state=states.SUCCEEDED)
        assert tenders.roll_up(conn, refund_id) == states.SUCCEEDED  # the replaced part no longer counts


def test_a_person_may_accept_what_moved(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = reserved(conn)
        with pytest.raises(IllegalTransition):
            tenders.accept_partial(conn, refund_id, "admin:ann")  # nothing failed
        force(conn, gift.id, state=states.WRITTEN_BACK)
        force(conn, card.id, state=states.FAILED)
        tenders.roll_up(conn, refund_id)
        assert tenders.accept_partial(conn, refund_id, "admin:ann") == states.WRITTEN_BACK
        assert not get(conn, refund_id).needs_person


def test_every_part_failing_fails_the_refund(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, parts = reserved(conn)
        for part in parts:
            force(conn, part.id, state=states.FAILED, last_error="declined")
        assert tenders.roll_up(conn, refund_id) == states.FAILED
        assert payments.committed(conn, payments.upsert(conn, "s1", "platform", GIFT)) == 0


def test_a_part_that_fails_after_it_succeeded_flags_its_refund(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = reserved(conn)
        force(conn, gift.id, state=states.WRITTEN_BACK)
        force(conn, card.id, state=states.WRITTEN_BACK)
        assert tenders.roll_up(conn, refund_id) == states.WRITTEN_BACK
        assert not get(conn, refund_id).needs_person
        force(conn, card.id, state=states.FAILED)  # Stripe: a succeeded refund can still fail
        tenders.roll_up(conn, refund_id)
        assert get(conn, refund_id).needs_person
