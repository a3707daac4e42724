"""hub.ledger.tenders, pinned line by line (issue #21's mutation run): what an allocation may and
may not do for every strategy and suggestion, which part carries the request's lines, what a part
row holds, and every way the parts of a refund add up or are settled by a person."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.db.tables import audit, jobs
from hub.errors import IllegalTransition, OverRefund, PaymentBusy
from hub.ledger import payments, states, tenders
from hub.ledger import refunds as ledger
from hub.ledger.tenders import Tender, allocate
from hub.models import Line, Payment, RefundRequest, TenderKind
from hub.models.money import allocate as largest_remainder
from tests.ledger.conftest import force, get, request

PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True)
KINDS = [k.value for k in TenderKind]

GIFT = Payment(platform_label="gift_card", reference="gc-1", captured=3000, currency="USD", tender=TenderKind.GIFT_CARD)
CARD = Payment(platform_label="stripe", reference="pi_1", captured=7000, currency="USD")
CREDIT = Payment(
    platform_label="store_credit", reference="sc-1", captured=2000, currency="USD", tender=TenderKind.STORE_CREDIT
)


# allocation: properties over every strategy --------------------------------------------------------

tender_lists = st.lists(
    st.builds(
        Tender,
        kind=st.sampled_from(KINDS),
        available=st.integers(min_value=-50, max_value=5000),
        suggested=st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
    ),
    min_size=1,
    max_size=4,
)


@PROPERTY
@given(tenders_=tender_lists, strategy=st.sampled_from(tenders.STRATEGIES), data=st.data())
def test_an_allocation_adds_up_exactly_and_never_passes_a_tenders_balance(
    tenders_: list[Tender], strategy: str, data: st.DataObject
) -> None:
    room = sum(max(0, t.available) for t in tenders_)
    amount = data.draw(st.integers(min_value=0, max_value=room), label="amount")
    shares = allocate(amount, tenders_, strategy)
    assert sum(shares) == amount
    assert len(shares) == len(tenders_)
    assert all(0 <= s <= max(0, t.available) for s, t in zip(shares, tenders_, strict=True))


@PROPERTY
@given(tenders_=tender_lists, strategy=st.sampled_from(tenders.STRATEGIES), over=st.integers(1, 1000))
def test_one_minor_unit_past_every_tender_together_is_refused(tenders_: list[Tender], strategy: str, over: int) -> None:
    room = sum(max(0, t.available) for t in tenders_)
    allocate(room, tenders_, strategy)  # the whole balance still fits
    with pytest.raises(OverRefund, match=f"refundable balance {room} of all tenders"):
        allocate(room + over, tenders_, strategy)


suggested_lists = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 3000), st.integers(0, 3000)),
    min_size=1,
    max_size=4,
).filter(lambda ts: sum(min(s, a) for _, s, a in ts) > 0)


@PROPERTY
@given(rows=suggested_lists, strategy=st.sampled_from(tenders.STRATEGIES), data=st.data())
def test_the_suggestion_capped_at_each_balance_is_scaled_down_by_largest_remainder(
    rows: list[tuple[str, int, int]], strategy: str, data: st.DataObject
) -> None:
    capped = [min(s, a) for _, s, a in rows]
    amount = data.draw(st.integers(0, sum(capped)), label="amount")
    shares = allocate(amount, [Tender(k, a, s) for k, s, a in rows], strategy)
    assert shares == largest_remainder(amount, capped)


@PROPERTY
@given(rows=suggested_lists, strategy=st.sampled_from(tenders.STRATEGIES), data=st.data())
def test_more_than_suggested_keeps_every_suggested_share_and_tops_up_in_the_strategys_order(
    rows: list[tuple[str, int, int]], strategy: str, data: st.DataObject
) -> None:
    capped = [min(s, a) for _, s, a in rows]
    room = sum(a for _, _, a in rows)
    amount = data.draw(st.integers(sum(capped), room), label="amount")
    listed = [Tender(k, a, s) for k, s, a in rows]
    shares = allocate(amount, listed, strategy)
    assert all(share >= c for share, c in zip(shares, capped, strict=True))
    extra = [share - c for share, c in zip(shares, capped, strict=True)]
    rest = [a - c for (_, _, a), c in zip(rows, capped, strict=True)]
    assert extra == fill_in_order(amount - sum(capped), rest, order_of(listed, strategy))


def order_of(listed: list[Tender], strategy: str) -> list[int]:
    """The documented order: credits (gift card, store credit) first, payments first, or as listed;
    within each group as the platform lists them."""
    credit = [i for i, t in enumerate(listed) if t.kind in ("gift_card", "store_credit")]
    card = [i for i, t in enumerate(listed) if t.kind not in ("gift_card", "store_credit")]
    if strategy == tenders.CREDIT_FIRST:
        return credit + card
    if strategy == tenders.CARD_FIRST:
        return card + credit
    return list(range(len(listed)))


def fill_in_order(amount: int, room: list[int], order: list[int]) -> list[int]:
    shares = [0] * len(room)
    for i in order:
        shares[i] = min(amount, room[i])
        amount -= shares[i]
    return shares


def test_the_strategy_names_are_the_ones_a_store_configures() -> None:
    """``tender_strategy`` in a store's settings (docs/configuration.md) is one of these words."""
    assert tenders.STRATEGIES == ("proportional", "credit_first", "card_first", "in_order")
    assert (tenders.SPLIT_ROUTE, tenders.PART_KIND, tenders.UNROUTED) == ("tenders", "part", "unrouted")
    assert {"gift_card", "store_credit"} == tenders.CREDITS


# allocation: the cases the docstring names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (tenders.CREDIT_FIRST, [2000, 2000, 1000]),  # the store credit, then the gift card, as listed; then the card
        (tenders.CARD_FIRST, [5000, 0, 0]),
        (tenders.IN_ORDER, [5000, 0, 0]),
        (tenders.PROPORTIONAL, [3500, 1000, 500]),
    ],
)
def test_each_strategy_with_the_card_listed_before_the_credits(strategy: str, expected: list[int]) -> None:
    listed = [Tender("payment", 7000), Tender("store_credit", 2000), Tender("gift_card", 1000)]
    assert allocate(5000, listed, strategy) == expected


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (tenders.CREDIT_FIRST, [1000, 0]),
        (tenders.CARD_FIRST, [0, 1000]),
        (tenders.IN_ORDER, [1000, 0]),
        (tenders.PROPORTIONAL, [300, 700]),
    ],
)
@pytest.mark.parametrize(
    "suggestions",
    [(1000, None), (None, 1000), (0, 0)],
    ids=["one-tender-without", "the-other-without", "all-zero"],
)
def test_a_suggestion_missing_on_one_tender_or_zero_everywhere_leaves_it_to_the_strategy(
    strategy: str, expected: list[int], suggestions: tuple[int | None, int | None]
) -> None:
    listed = [Tender("gift_card", 3000, suggestions[0]), Tender("payment", 7000, suggestions[1])]
    assert allocate(1000, listed, strategy) == expected


def test_a_suggestion_on_every_tender_is_followed_over_the_strategy() -> None:
    listed = [Tender("gift_card", 3000, 0), Tender("payment", 7000, 1000)]
    assert allocate(1000, listed, tenders.CREDIT_FIRST) == [0, 1000]
    assert allocate(3000, listed, tenders.CARD_FIRST) == [0, 3000]  # topped up card first
    assert allocate(3000, listed, tenders.PROPORTIONAL) == [2000, 1000]  # topped up in the listed order
    assert allocate(9000, listed, tenders.CREDIT_FIRST) == [3000, 6000]


def test_a_suggestion_of_a_single_minor_unit_is_still_a_suggestion() -> None:
    listed = [Tender("gift_card", 3000, 1), Tender("payment", 7000, 0)]
    assert allocate(1, listed, tenders.CARD_FIRST) == [1, 0]


def test_a_tender_and_a_planned_tender_are_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Tender("payment", 1).available = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tenders.Planned(0, 1, "platform", tenders.IN_ORDER).route = "x"  # type: ignore[misc]
    assert Tender("payment", 1).suggested is None


def test_a_negative_balance_counts_as_nothing() -> None:
    listed = [Tender("payment", -500), Tender("gift_card", 1000)]
    assert allocate(1000, listed) == [0, 1000]
    with pytest.raises(OverRefund, match="payment 0, gift_card 1000"):
        allocate(1001, listed)


def test_nothing_to_split_and_an_unknown_strategy() -> None:
    assert allocate(0, []) == []
    assert allocate(0, [Tender("payment", 0, 0)]) == [0]
    with pytest.raises(ValueError, match="cheapest"):
        allocate(0, [], "cheapest")
    assert tenders.DEFAULT_STRATEGY == tenders.PROPORTIONAL
    assert allocate(1000, [Tender("gift_card", 3000), Tender("payment", 7000)]) == [300, 700]


# the plan ------------------------------------------------------------------------------------------------


def test_a_plan_of_one_tender_is_no_plan_and_a_new_plan_replaces_the_old(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        r1 = ledger.open_refund(conn, request("rq-1"), kind="requested", state=states.REQUESTED)[0]
        r2 = ledger.open_refund(conn, request("rq-2"), kind="requested", state=states.REQUESTED)[0]
        gift, card = payments.upsert(conn, "s1", "platform", GIFT), payments.upsert(conn, "s1", "gateway:stripe", CARD)
        tenders.save_plan(conn, r1, [(gift, "platform"), (card, "gateway:stripe")], tenders.CARD_FIRST)
        assert tenders.plan_of(conn, r1) == [
            tenders.Planned(0, gift, "platform", tenders.CARD_FIRST),
            tenders.Planned(1, card, "gateway:stripe", tenders.CARD_FIRST),
        ]
        with pytest.raises(ValueError, match="cheapest"):
            tenders.save_plan(conn, r1, [(gift, "platform")], "cheapest")
        assert len(tenders.plan_of(conn, r1)) == 2  # a refused plan changes nothing
        tenders.save_plan(conn, r1, [(card, "gateway:stripe")], tenders.IN_ORDER)
        assert tenders.plan_of(conn, r1) == []
        tenders.save_plan(conn, r2, [(card, "gateway:stripe"), (gift, "platform")], tenders.IN_ORDER)
        assert [(p.position, p.payment_id) for p in tenders.plan_of(conn, r2)] == [(0, card), (1, gift)]


# reserving the parts ---------------------------------------------------------------------------------------


def open_split(
    conn: sa.Connection,
    source_ref: str,
    amount: int,
    tenders_: tuple[tuple[Payment, str], ...] = ((GIFT, "platform"), (CARD, "gateway:stripe")),
    strategy: str = tenders.CREDIT_FIRST,
    **update: Any,
) -> str:
    asked = request(source_ref, amount).model_copy(update={"payments": tuple(p for p, _ in tenders_), **update})
    refund_id, _ = ledger.open_refund(conn, asked, kind="requested", state=states.REQUESTED)
    planned = [(payments.upsert(conn, "s1", route, p), route) for p, route in tenders_]
    tenders.save_plan(conn, refund_id, planned, strategy)
    return refund_id


def reserve(conn: sa.Connection, refund_id: str, amount: int) -> list[Any]:
    payments.reserve(conn, refund_id, 0, amount, expect=states.REQUESTED)
    return tenders.parts_of(conn, refund_id)


def audits(conn: sa.Connection, refund_id: str, action: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(audit.c.detail, audit.c.actor).where(audit.c.refund_id == refund_id, audit.c.action == action)
    ).all()
    return [{**row.detail, "actor": row.actor} for row in rows]


def queued(conn: sa.Connection, kind: str) -> list[str]:
    return list(conn.execute(sa.select(jobs.c.subject_id).where(jobs.c.kind == kind)).scalars())


def test_a_part_row_holds_its_tender_its_share_and_its_parent(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 4000)
        force(conn, refund_id, policy_version="2026-11-01.3")  # what decided it
        parent = get(conn, refund_id)
        gift_part, card_part = reserve(conn, refund_id, 4000)
    for part, position, tender, amount in ((gift_part, 0, GIFT, 3000), (card_part, 1, CARD, 1000)):
        assert (part.kind, part.state, part.money_moved, part.parent_id) == ("part", "approved", False, refund_id)
        assert (part.amount, part.approved_amount, part.currency, part.attempts) == (amount, amount, "USD", 0)
        assert (part.connector, part.store_id, part.order_id) == ("sandbox", "s1", "o1")
        assert part.policy_version == parent.policy_version == "2026-11-01.3"
        assert part.source_ref == f"rq-1#{position}"
        assert part.idempotency_key == ledger.idempotency_key_for(part.id)
        assert part.payment_id is not None
        asked = RefundRequest.model_validate(part.request)
        assert (asked.amount, asked.payments, asked.source_ref) == (amount, (tender,), f"rq-1#{position}")
    assert gift_part.decision == {"part_of": refund_id, "tender": 0, "carries_lines": True}
    assert card_part.decision == {"part_of": refund_id, "tender": 1, "carries_lines": False}
    assert gift_part.payment_id != card_part.payment_id


LINE = Line(line_id="l1", sku="SKU-1", quantity=1, unit_price=3500)


@pytest.mark.parametrize(
    ("tenders_", "carrier"),
    [
        (((CARD, "gateway:stripe"), (GIFT, "platform")), 1),  # the platform-routed one, wherever it is listed
        (((GIFT, "gateway:paypal"), (CARD, "gateway:stripe")), 0),  # none is: the first that takes a share
    ],
)
def test_only_one_part_carries_the_lines_and_shipping(
    engine: sa.Engine, tenders_: tuple[tuple[Payment, str], ...], carrier: int
) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 8000, tenders_, tenders.IN_ORDER, lines=(LINE,), shipping=500)
        parts = reserve(conn, refund_id, 8000)
    assert len(parts) == 2
    for i, part in enumerate(parts):
        carries = i == carrier
        assert part.decision["carries_lines"] is carries
        assert (len(part.request["lines"]), part.request["shipping"]) == ((1, 500) if carries else (0, 0))


def test_a_tender_that_takes_no_share_gets_no_part_and_the_carrier_is_one_that_does(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(
            conn, "rq-1", 1000, ((GIFT, "platform"), (CARD, "gateway:stripe")), tenders.CARD_FIRST, lines=(LINE,)
        )
        [part] = reserve(conn, refund_id, 1000)
        assert (part.route, part.approved_amount, part.decision["carries_lines"]) == ("gateway:stripe", 1000, True)
        assert queued(conn, "refund") == [part.id]
        one = open_split(conn, "rq-2", 3001, ((CARD, "gateway:stripe"), (CREDIT, "platform")), tenders.CREDIT_FIRST)
        assert [(p.route, p.approved_amount) for p in reserve(conn, one, 3001)] == [
            ("gateway:stripe", 1001),
            ("platform", 2000),
        ]
        last = open_split(conn, "rq-3", 1, ((CARD, "gateway:stripe"), (CREDIT, "platform")), tenders.CREDIT_FIRST)
        assert [(p.route, p.approved_amount) for p in reserve(conn, last, 1)] == [("gateway:stripe", 1)]


def test_a_tender_routed_unrouted_takes_nothing_and_the_platforms_maximum_caps_a_tender(engine: sa.Engine) -> None:
    capped = CARD.model_copy(update={"refundable": 2500})
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 2500, ((GIFT, "unrouted"), (capped, "gateway:stripe")))
        [part] = reserve(conn, refund_id, 2500)
        assert (part.route, part.approved_amount) == ("gateway:stripe", 2500)
        second = open_split(conn, "rq-2", 2501, ((GIFT, "unrouted"), (capped, "gateway:stripe")))
        with pytest.raises(OverRefund, match="2501 would exceed the refundable balance 2500"):
            reserve(conn, second, 2501)
        assert get(conn, second).state == states.REQUESTED


def test_the_split_is_audited_with_its_strategy_whether_suggested_and_each_part(engine: sa.Engine) -> None:
    gift, card = GIFT.model_copy(update={"suggested": 500}), CARD.model_copy(update={"suggested": 1500})
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 2000, ((gift, "platform"), (card, "gateway:stripe")))
        made = reserve(conn, refund_id, 2000)
        plain = open_split(conn, "rq-2", 500)
        reserve(conn, plain, 500)
        [entry] = audits(conn, refund_id, "split_across_tenders")
        [other] = audits(conn, plain, "split_across_tenders")
    assert entry == {
        "actor": "ledger",
        "strategy": tenders.CREDIT_FIRST,
        "suggested": True,
        "parts": [
            {"part": made[0].id, "tender": "gift_card", "route": "platform", "amount": 500},
            {"part": made[1].id, "tender": "stripe", "route": "gateway:stripe", "amount": 1500},
        ],
    }
    assert other["suggested"] is False


def test_a_split_refund_is_approved_and_executing_on_no_payment_of_its_own(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 4000)
        ledger.set_payment(conn, refund_id, payments.upsert(conn, "s1", "platform", GIFT), "platform")
        force(conn, refund_id, lease_until=datetime(2030, 1, 1, tzinfo=UTC))  # the deciding worker's lease
        reserve(conn, refund_id, 4000)
        parent = get(conn, refund_id)
        assert (parent.state, parent.payment_id, parent.route, parent.approved_amount) == (
            states.EXECUTING,
            None,
            tenders.SPLIT_ROUTE,
            4000,
        )
        assert parent.lease_until is None


def test_reserving_a_split_refund_that_is_gone_or_not_where_expected_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 1000)
        plan = tenders.plan_of(conn, refund_id)
        with pytest.raises(IllegalTransition, match="does not exist"):
            tenders.reserve_split(conn, "nope", plan, 1000, expect=states.REQUESTED)
        with pytest.raises(IllegalTransition, match="changed state"):
            tenders.reserve_split(conn, refund_id, plan, 1000, expect=states.REVIEW)
        assert tenders.parts_of(conn, refund_id) == []


def test_reserving_a_split_answers_the_parts_it_opened(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 4000)
        made = tenders.reserve_split(conn, refund_id, tenders.plan_of(conn, refund_id), 4000, expect=states.REQUESTED)
        assert made == [p.id for p in tenders.parts_of(conn, refund_id)]
        assert len(made) == 2


def test_a_split_may_take_the_whole_balance_of_every_tender(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 10_000)
        first = reserve(conn, refund_id, 10_000)
        assert [p.approved_amount for p in first] == [3000, 7000]


# how the parts add up -----------------------------------------------------------------------------------


def split(conn: sa.Connection, *part_states: str, amount: int = 4000) -> tuple[str, list[Any]]:
    refund_id = open_split(conn, "rq-1", amount)
    parts = reserve(conn, refund_id, amount)
    for part, state in zip(parts, part_states, strict=True):
        force(conn, part.id, state=state, last_error=f"{state} {part.route}" if state == states.FAILED else None)
    return refund_id, parts


def test_roll_up_of_a_refund_that_does_not_exist_or_has_no_parts(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert tenders.roll_up(conn, "nope") is None
        refund_id = open_split(conn, "rq-1", 1000)
        assert tenders.roll_up(conn, refund_id) == states.REQUESTED


def test_every_part_succeeded_the_refund_succeeds_once_with_its_write_back_job(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, _ = split(conn, states.SUCCEEDED, states.WRITTEN_BACK)
        assert tenders.roll_up(conn, refund_id) == states.SUCCEEDED
        assert tenders.roll_up(conn, refund_id) == states.SUCCEEDED
        parent = get(conn, refund_id)
        assert parent.executed_at is not None
        assert queued(conn, "write_back") == [refund_id]
        [entry] = audits(conn, refund_id, "parts_succeeded")
        assert (entry["moved"], entry["partly_failed"], len(entry["parts"])) == (4000, False, 2)
        assert not parent.needs_person


def test_every_part_failed_the_refund_fails_with_each_parts_error(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, _ = split(conn, states.FAILED, states.FAILED)
        assert tenders.roll_up(conn, refund_id) == states.FAILED
        assert get(conn, refund_id).last_error == "failed platform; failed gateway:stripe"
        assert len(audits(conn, refund_id, "parts_failed")) == 1
        assert queued(conn, "write_back") == []


def test_a_failed_part_without_an_error_is_named_by_its_state(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, parts = split(conn, states.FAILED, states.FAILED)
        force(conn, parts[0].id, last_error=None)
        tenders.roll_up(conn, refund_id)
        assert get(conn, refund_id).last_error == "failed; failed gateway:stripe"


@pytest.mark.parametrize(
    "part_states",
    [(states.SUCCEEDED, states.EXECUTING), (states.FAILED, states.UNKNOWN), (states.WRITTEN_BACK, states.PENDING)],
)
def test_parts_still_in_flight_leave_the_refund_executing_and_unflagged(
    engine: sa.Engine, part_states: tuple[str, str]
) -> None:
    with engine.begin() as conn:
        refund_id, _ = split(conn, *part_states)
        assert tenders.roll_up(conn, refund_id) == states.EXECUTING
        assert not get(conn, refund_id).needs_person
        assert queued(conn, "write_back") == []


def test_a_partly_failed_refund_is_flagged_once(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, _ = split(conn, states.WRITTEN_BACK, states.FAILED)
        assert tenders.roll_up(conn, refund_id) == states.EXECUTING
        assert tenders.roll_up(conn, refund_id) == states.EXECUTING
        assert get(conn, refund_id).needs_person
        [entry] = audits(conn, refund_id, "partly_failed")
        assert (entry["partly_failed"], entry["moved"]) == (True, 3000)
        assert [p["state"] for p in entry["parts"]] == [states.WRITTEN_BACK, states.FAILED]


def test_a_failed_part_beside_succeeded_and_written_back_ones_is_partly_failed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        three = open_split(conn, "rq-3", 5500, ((GIFT, "platform"), (CREDIT, "platform"), (CARD, "gateway:stripe")))
        for part, state in zip(
            reserve(conn, three, 5500), (states.SUCCEEDED, states.WRITTEN_BACK, states.FAILED), strict=True
        ):
            force(conn, part.id, state=state)
        assert tenders.roll_up(conn, three) == states.EXECUTING
        assert get(conn, three).needs_person


def test_succeeded_and_written_back_parts_leave_the_refund_succeeded_until_all_are_written_back(
    engine: sa.Engine,
) -> None:
    with engine.begin() as conn:
        refund_id, parts = split(conn, states.SUCCEEDED, states.WRITTEN_BACK)
        assert tenders.roll_up(conn, refund_id) == states.SUCCEEDED
        force(conn, parts[0].id, state=states.WRITTEN_BACK)
        assert tenders.roll_up(conn, refund_id) == states.WRITTEN_BACK
        assert get(conn, refund_id).writeback_ref is None  # no part had a reference
        assert len(audits(conn, refund_id, "written_back")) == 1
        assert tenders.roll_up(conn, refund_id) == states.WRITTEN_BACK
        assert len(audits(conn, refund_id, "written_back")) == 1


def test_the_write_back_references_are_sorted_and_deduplicated(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, parts = split(conn, states.WRITTEN_BACK, states.WRITTEN_BACK)
        force(conn, parts[0].id, writeback_ref="r9")
        force(conn, parts[1].id, writeback_ref="r1")
        tenders.roll_up(conn, refund_id)
        assert get(conn, refund_id).writeback_ref == "r1,r9"
        [entry] = audits(conn, refund_id, "written_back")
        assert (entry["by"], entry["actor"]) == ("parts", "ledger")


def test_a_late_failure_is_flagged_once_unless_a_person_accepted_it(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, parts = split(conn, states.WRITTEN_BACK, states.FAILED)
        tenders.roll_up(conn, refund_id)
        assert tenders.accept_partial(conn, refund_id, "admin:ann") == states.WRITTEN_BACK
        assert tenders.roll_up(conn, refund_id) == states.WRITTEN_BACK
        assert not get(conn, refund_id).needs_person  # the accepted failure is not late
        force(conn, parts[0].id, state=states.FAILED)
        tenders.roll_up(conn, refund_id)
        tenders.roll_up(conn, refund_id)
        assert get(conn, refund_id).needs_person
        assert len(audits(conn, refund_id, "part_failed_late")) == 1


def test_the_summary_names_each_parts_tender_and_reference(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, parts = split(conn, states.SUCCEEDED, states.FAILED)
        force(conn, parts[0].id, gateway_refund_id="gc-r1")
        seen = tenders.summary(conn, refund_id)
    assert seen == {
        "partly_failed": True,
        "moved": 3000,
        "parts": [
            {
                "part": parts[0].id,
                "state": states.SUCCEEDED,
                "route": "platform",
                "amount": 3000,
                "tender": "gift_card",
                "reference": "gc-1",
                "gateway_refund_id": "gc-r1",
            },
            {
                "part": parts[1].id,
                "state": states.FAILED,
                "route": "gateway:stripe",
                "amount": 1000,
                "tender": "stripe",
                "reference": "pi_1",
                "gateway_refund_id": None,
            },
        ],
    }


# a person settles a partly failed refund ----------------------------------------------------------------


def test_a_retry_is_a_new_part_on_the_failed_tender_and_replaces_it(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = open_split(conn, "rq-1", 4000, lines=(LINE,))
        gift, card = reserve(conn, refund_id, 4000)
        force(conn, gift.id, state=states.FAILED)
        force(conn, card.id, state=states.SUCCEEDED)
        tenders.roll_up(conn, refund_id)
        [retry] = tenders.retry_failed(conn, refund_id, "admin:ann")
        again, old = get(conn, retry), get(conn, gift.id)
        assert old.decision == {**(gift.decision or {}), "replaced_by": retry}  # what it was stays with it
        assert again.source_ref == f"rq-1#0.1{gift.id[-4:]}"
        assert (again.payment_id, again.route, again.approved_amount) == (gift.payment_id, "platform", 3000)
        assert again.decision == {"part_of": refund_id, "tender": 0, "carries_lines": True}
        assert len(again.request["lines"]) == 1
        assert retry in queued(conn, "refund")
        assert not get(conn, refund_id).needs_person
        [entry] = audits(conn, refund_id, "parts_retried")
        assert entry == {"actor": "admin:ann", "retries": [retry]}
        assert [p.id for p in tenders.live_parts(conn, refund_id)] == [card.id, retry]
        assert [p.id for p in tenders.parts_of(conn, refund_id)] == [gift.id, card.id, retry]


def test_a_retry_is_refused_when_nothing_failed_or_the_refund_is_not_executing(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(IllegalTransition):
            tenders.retry_failed(conn, "nope", "admin:ann")
        refund_id, _ = split(conn, states.SUCCEEDED, states.EXECUTING)
        with pytest.raises(IllegalTransition, match="no failed parts"):
            tenders.retry_failed(conn, refund_id, "admin:ann")
        failed, _ = split_again(conn, "rq-2", states.FAILED, states.FAILED)
        tenders.roll_up(conn, failed)
        with pytest.raises(IllegalTransition, match="no failed parts"):
            tenders.retry_failed(conn, failed, "admin:ann")  # failed as a whole: a new request, not a retry


def split_again(conn: sa.Connection, source_ref: str, *part_states: str) -> tuple[str, list[Any]]:
    refund_id = open_split(conn, source_ref, 2500, ((CREDIT, "platform"), (CARD, "gateway:stripe")))
    parts = reserve(conn, refund_id, 2500)
    for part, state in zip(parts, part_states, strict=True):
        force(conn, part.id, state=state)
    return refund_id, parts


def test_a_retry_never_goes_past_what_is_left_on_its_tender(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = split(conn, states.SUCCEEDED, states.FAILED, amount=4000)
        tenders.roll_up(conn, refund_id)
        other = ledger.open_refund(conn, request("rq-9", 6500), kind="requested", state=states.REQUESTED)[0]
        payments.reserve(conn, other, card.payment_id, 6500, expect=states.REQUESTED)  # 500 left on the card
        with pytest.raises(OverRefund, match="1000 would exceed the refundable balance 500 of tender 1"):
            tenders.retry_failed(conn, refund_id, "admin:ann")
        force(conn, other, approved_amount=6000)  # now exactly the part's 1000 is left
        [retry] = tenders.retry_failed(conn, refund_id, "admin:ann")
        assert get(conn, retry).approved_amount == 1000


def test_a_retry_waits_while_a_refund_on_its_tender_is_in_doubt(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (_, card) = split(conn, states.SUCCEEDED, states.FAILED)
        tenders.roll_up(conn, refund_id)
        other = ledger.open_refund(conn, request("rq-9", 100), kind="requested", state=states.REQUESTED)[0]
        payments.reserve(conn, other, card.payment_id or 0, 100, expect=states.REQUESTED)
        force(conn, other, state=states.UNKNOWN)
        with pytest.raises(PaymentBusy):
            tenders.retry_failed(conn, refund_id, "admin:ann")


def test_what_a_person_settled_on_a_part_is_stamped(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (_, card) = split(conn, states.SUCCEEDED, states.FAILED)
        tenders.roll_up(conn, refund_id)
        old = datetime(2020, 1, 1, tzinfo=UTC)
        force(conn, card.id, updated_at=old)
        tenders.accept_partial(conn, refund_id, "admin:ann")
        assert get(conn, card.id).updated_at > old


def test_the_refunds_error_and_write_back_references_are_cut_to_their_columns(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = split(conn, states.FAILED, states.FAILED)
        force(conn, gift.id, last_error="g" * 300)
        force(conn, card.id, last_error="c" * 300)
        tenders.roll_up(conn, refund_id)
        assert get(conn, refund_id).last_error == "g" * 300 + "; " + "c" * 198
        written, (a, b) = split_again(conn, "rq-2", states.WRITTEN_BACK, states.WRITTEN_BACK)
        force(conn, a.id, writeback_ref="a" * 200)
        force(conn, b.id, writeback_ref="b" * 200)
        tenders.roll_up(conn, written)
        assert get(conn, written).writeback_ref == "a" * 200 + "," + "b" * 54


def test_accepting_is_refused_while_a_part_is_in_flight_or_nothing_failed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(IllegalTransition):
            tenders.accept_partial(conn, "nope", "admin:ann")
        three = open_split(conn, "rq-3", 5500, ((GIFT, "platform"), (CREDIT, "platform"), (CARD, "gateway:stripe")))
        a, b, c = reserve(conn, three, 5500)
        force(conn, a.id, state=states.SUCCEEDED)
        force(conn, b.id, state=states.FAILED)
        force(conn, c.id, state=states.UNKNOWN)
        with pytest.raises(IllegalTransition, match="in flight"):
            tenders.accept_partial(conn, three, "admin:ann")
        for part in (b, c):
            force(conn, part.id, state=states.SUCCEEDED)
        with pytest.raises(IllegalTransition, match="not partly failed"):
            tenders.accept_partial(conn, three, "admin:ann")
        assert get(conn, three).state == states.EXECUTING


def test_accepting_what_moved_succeeds_the_refund_and_queues_its_write_back(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id, (gift, card) = split(conn, states.SUCCEEDED, states.FAILED)
        tenders.roll_up(conn, refund_id)
        assert tenders.accept_partial(conn, refund_id, "admin:ann") == states.SUCCEEDED
        parent = get(conn, refund_id)
        assert (parent.state, parent.needs_person) == (states.SUCCEEDED, False)
        assert parent.executed_at is not None
        assert (get(conn, card.id).decision or {})["accepted"] is True
        assert "accepted" not in (get(conn, gift.id).decision or {})
        assert queued(conn, "write_back") == [refund_id]
        [entry] = audits(conn, refund_id, "partial_accepted")
        assert (entry["actor"], entry["moved"]) == ("admin:ann", 3000)
        assert tenders.partly_failed(tenders.live_parts(conn, refund_id))
        assert not tenders.partly_failed([get(conn, card.id)])
        assert not tenders.partly_failed([get(conn, gift.id)])
