"""Survivors of bench/mutation.py in hub/pipeline/settle.py: settling a part of a split refund
moves its refund at once (it does not wait for a write-back to learn where its parts stand), and a
person's retry or acceptance of a partly failed refund says what it did and wakes the workers; the
customer is owed a "completed" notice on every channel when their refund succeeds — a split one
when its last part is paid, never for a part, a decline or an answer heard twice."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from hub.contracts import Outcome, RefundResult
from hub.db.tables import refunds
from hub.errors import IllegalTransition
from hub.ledger import notices, payments, states, tenders
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.models import Payment, TenderKind
from hub.pipeline.notify import CHANNELS
from hub.pipeline.settle import accept_partial, parts_summary, retry_failed_parts, settle
from tests.hub.conftest import STORE, World
from tests.ledger.conftest import request

GIFT = Payment(platform_label="gift_card", reference="gc-7", captured=3000, currency="USD", tender=TenderKind.GIFT_CARD)
CARD = Payment(platform_label="sandbox", reference="pay-7", captured=7000, currency="USD")


def split_and_out(w: World, source_ref: str) -> tuple[str, list[Refund]]:
    """A refund split over a gift card and a card, both parts' calls out (executing)."""
    with w.hub.hub.engine.begin() as conn:
        asked = request(source_ref, 5000, store_id=STORE).model_copy(update={"payments": (GIFT, CARD)})
        refund_id, _ = ledger.open_refund(conn, asked, kind="requested", state=states.REQUESTED)
        gift = payments.upsert(conn, STORE, "platform", GIFT)
        card = payments.upsert(conn, STORE, "gateway:sandbox", CARD)
        tenders.save_plan(conn, refund_id, [(gift, "platform"), (card, "gateway:sandbox")], tenders.CREDIT_FIRST)
        payments.reserve(conn, refund_id, gift, 5000, expect=states.REQUESTED)
        parts = tenders.parts_of(conn, refund_id)
        ids = [p.id for p in parts]
        conn.execute(sa.update(refunds).where(refunds.c.id.in_(ids)).values(state=states.EXECUTING, attempts=1))
    return refund_id, parts


def state_of(w: World, refund_id: str) -> str:
    with w.hub.hub.engine.begin() as conn:
        found = ledger.get(conn, refund_id)
    assert found is not None
    return found.state


def answer(w: World, part: Refund, outcome: Outcome, **kw: Any) -> None:
    settle(w.hub.hub, part.id, RefundResult(outcome=outcome, **kw), expect=states.EXECUTING, actor="worker")


def test_the_last_part_paid_makes_its_refund_succeed_before_any_write_back(world: World) -> None:
    refund_id, (gift, card) = split_and_out(world, "rq-split-1")
    assert state_of(world, refund_id) == states.EXECUTING
    answer(world, gift, Outcome.SUCCEEDED)
    assert state_of(world, refund_id) == states.EXECUTING  # the card's call is still out
    answer(world, card, Outcome.SUCCEEDED, gateway_refund_id="re_7")
    assert state_of(world, refund_id) == states.SUCCEEDED


def test_every_part_declined_fails_its_refund_at_once(world: World) -> None:
    refund_id, (gift, card) = split_and_out(world, "rq-split-2")
    answer(world, gift, Outcome.FAILED, message="gift card closed")
    answer(world, card, Outcome.FAILED, message="declined")
    assert state_of(world, refund_id) == states.FAILED


@pytest.fixture
def wakes(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each wake-up of the workers, as it happens."""
    seen: list[str] = []
    monkeypatch.setattr(world.hub.hub.dispatcher, "wake", lambda: seen.append("wake"))
    return seen


def partly_failed(w: World, source_ref: str) -> tuple[str, list[Refund]]:
    refund_id, (gift, card) = split_and_out(w, source_ref)
    answer(w, gift, Outcome.SUCCEEDED)
    answer(w, card, Outcome.FAILED, message="declined")
    return refund_id, [gift, card]


def test_a_retry_returns_the_new_part_and_wakes_the_workers(world: World, wakes: list[str]) -> None:
    refund_id, (_, card) = partly_failed(world, "rq-split-3")
    woken = len(wakes)
    [made] = retry_failed_parts(world.hub.hub, refund_id, "person:ana")
    assert len(wakes) == woken + 1
    with world.hub.hub.engine.begin() as conn:
        live = tenders.live_parts(conn, refund_id)
    assert made in [p.id for p in live]
    assert made != card.id
    assert state_of(world, made) == states.APPROVED


def test_accepting_what_moved_returns_the_refunds_state_and_wakes_the_workers(world: World, wakes: list[str]) -> None:
    refund_id, _ = partly_failed(world, "rq-split-4")
    woken = len(wakes)
    assert accept_partial(world.hub.hub, refund_id, "person:ana") == states.SUCCEEDED
    assert len(wakes) == woken + 1
    assert state_of(world, refund_id) == states.SUCCEEDED


def test_the_parts_of_a_refund_that_does_not_exist_are_refused(world: World) -> None:
    with pytest.raises(IllegalTransition, match="no refund rf_missing"):
        parts_summary(world.hub.hub, "rf_missing")
    refund_id, _ = partly_failed(world, "rq-split-5")
    summary = parts_summary(world.hub.hub, refund_id)
    assert (summary["refund"], summary["state"], summary["partly_failed"]) == (refund_id, states.EXECUTING, True)


def owed(w: World, refund_id: str) -> list[tuple[str, str]]:
    """The notices the customer is owed for a refund: (step, channel)."""
    with w.hub.hub.engine.begin() as conn:
        return sorted((n.step, n.channel) for n in notices.of_refund(conn, refund_id))


COMPLETED = sorted(("completed", channel) for channel in CHANNELS)


def test_a_split_refund_is_announced_completed_when_its_last_part_is_paid(world: World) -> None:
    refund_id, (gift, card) = split_and_out(world, "rq-split-6")
    answer(world, gift, Outcome.SUCCEEDED)
    assert owed(world, refund_id) == []  # the card's part is still out: nothing is complete yet
    answer(world, card, Outcome.SUCCEEDED, gateway_refund_id="re_76")
    assert owed(world, refund_id) == COMPLETED
    assert owed(world, gift.id) == owed(world, card.id) == []  # a part is told through its refund


def test_a_split_refund_every_part_declined_is_not_announced_completed(world: World) -> None:
    refund_id, (gift, card) = split_and_out(world, "rq-split-7")
    answer(world, gift, Outcome.FAILED, message="gift card closed")
    answer(world, card, Outcome.FAILED, message="declined")
    assert owed(world, refund_id) == []


def one_out(w: World, source_ref: str) -> str:
    """A refund on one card payment, its call out (executing)."""
    with w.hub.hub.engine.begin() as conn:
        refund_id, _ = ledger.open_refund(
            conn, request(source_ref, 2000, store_id=STORE), kind="requested", state=states.REQUESTED
        )
        card = payments.upsert(conn, STORE, "gateway:sandbox", request(source_ref).payments[0])
        ledger.set_payment(conn, refund_id, card, "gateway:sandbox")
        payments.reserve(conn, refund_id, card, 2000, expect=states.REQUESTED)
        conn.execute(sa.update(refunds).where(refunds.c.id == refund_id).values(state=states.EXECUTING, attempts=1))
    return refund_id


def test_a_refund_is_announced_completed_once_when_its_success_is_recorded(world: World) -> None:
    refund_id = one_out(world, "rq-one-1")
    paid = RefundResult(outcome=Outcome.SUCCEEDED, gateway_refund_id="re_81")
    assert settle(world.hub.hub, refund_id, paid, expect=states.EXECUTING, actor="worker").applied
    assert owed(world, refund_id) == COMPLETED
    again = settle(world.hub.hub, refund_id, paid, expect=(states.EXECUTING, states.PENDING), actor="gateway_event")
    assert not again.applied
    assert owed(world, refund_id) == COMPLETED


def test_a_declined_refund_is_not_announced_completed(world: World) -> None:
    refund_id = one_out(world, "rq-one-2")
    declined = RefundResult(outcome=Outcome.FAILED, message="declined")
    assert settle(world.hub.hub, refund_id, declined, expect=states.EXECUTING, actor="worker").applied
    assert state_of(world, refund_id) == states.FAILED
    assert owed(world, refund_id) == []
