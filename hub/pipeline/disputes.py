"""Dispute events from gateways: an open dispute holds refunds on its payment at once.

A refund approved but not yet sent goes to a person (approved → review, its reservation
released) with the reason "open dispute": refunding money the bank may also give back pays the
customer twice. A refund whose call may already be out is flagged for a person. When the last
dispute that held the payment closes for the merchant (won, inquiry closed), the policy decides
the refunds it held once more: an approval is reserved and sent, anything else stays with the
person. A lost dispute keeps the hold: the chargeback has already returned the money.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hub.contracts import DisputeEvent, DisputeState
from hub.errors import OverRefund, ParseError, PaymentBusy
from hub.ledger import audit, disputes, payments, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.history import build_history
from hub.ledger.outbox import JobKind
from hub.ledger.records import Refund
from hub.ledger.twins import GATEWAY_SOURCE
from hub.ledger.unit import Unit, write
from hub.models import RefundRequest
from hub.runtime.bootstrap import Hub

HOLD_KEY = "dispute_hold"  # in the refund's decision detail: why a person must look at it now
PENDING_KEY = "dispute_hold_pending"  # a call was out when the dispute came: hold it before a retry
APPROVALS = ("approve", "approve_partial")


def checked_dispute(event: DisputeEvent) -> DisputeEvent:
    """A dispute event whose ids are text the ledger can store: a signed body may carry anything."""
    texts = (event.dispute_id, event.payment_reference, event.raw_status)
    if not all(isinstance(v, str) and v for v in texts) or not isinstance(event.state, DisputeState):
        raise ParseError("a dispute event's ids or state are not text")
    for value in (*texts, event.currency or "", event.event_id or ""):
        value.encode("utf-8")  # UnicodeEncodeError for a lone surrogate: unreadable
    amount = event.amount
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < 2**63):
        raise ParseError(f"a dispute event's amount is not a whole number of minor units: {amount!r}"[:200])
    return event


def take_dispute_events(
    hub: Hub, account: str, events: list[DisputeEvent], delivery_id: str | None, now: datetime | None = None
) -> None:
    route = f"{GATEWAY_SOURCE}{account}"
    for event in events:
        released: list[str] = []
        with write(hub.engine) as conn:
            applied = disputes.record(conn, route, event)
            held = disputes.mark_payment(conn, route, event.payment_reference)
            audit.write(
                conn,
                route,
                "dispute_event",
                delivery_id=delivery_id,
                dispute_id=event.dispute_id,
                payment_reference=event.payment_reference,
                state=event.state.value,
                raw_status=event.raw_status,
                applied=applied,
                payment_held=held,
            )
            if not applied:
                continue
            if held:
                _hold_payment(conn, route, event)
                continue
            in_review = disputes.refunds_on(conn, route, event.payment_reference, (states.REVIEW,))
            released = [r.id for r in in_review if _held_by_dispute(r)]
        for refund_id in released:
            _release(hub, refund_id, route, event, now or datetime.now(UTC))
    hub.dispatcher.wake()


def _reason(event: DisputeEvent) -> str:
    if event.state is DisputeState.LOST:
        return f"lost dispute {event.dispute_id} ({event.raw_status}): the bank already returned the money"
    return f"open dispute {event.dispute_id} ({event.raw_status})"


def _hold_payment(conn: Unit, route: str, event: DisputeEvent) -> None:
    reason = _reason(event)
    for refund in disputes.refunds_on(conn, route, event.payment_reference, (states.APPROVED,)):
        if not ledger.transition(conn, refund.id, states.REVIEW, expect=states.APPROVED):
            continue  # a worker claimed it first: it is executing, handled below on the next event
        ledger.set_decision(conn, refund.id, {**(refund.decision or {}), HOLD_KEY: reason}, refund.policy_version)
        audit.write(conn, route, "held_for_dispute", refund_id=refund.id, dispute_id=event.dispute_id, reason=reason)
    for refund in disputes.refunds_on(conn, route, event.payment_reference, tuple(states.UNRESOLVED)):
        ledger.flag_needs_person(conn, refund.id)
        ledger.set_decision(conn, refund.id, {**(refund.decision or {}), PENDING_KEY: reason}, refund.policy_version)
        audit.write(
            conn,
            route,
            "dispute_while_executing",
            refund_id=refund.id,
            dispute_id=event.dispute_id,
            note="the refund may already have gone out while the payment is disputed: check both",
        )


def hold_before_sending(conn: Unit, row: Refund) -> bool:
    """Inside the executor's claim: an approved refund whose earlier call was out when a dispute
    opened goes to a person instead of being sent again, while the dispute still holds (a
    surely-not-sent answer brought it back to approved). True when it was held."""
    detail = dict(row.decision or {})
    reason = detail.pop(PENDING_KEY, None)
    if reason is None or row.state != states.APPROVED:
        return False
    held = row.payment_id is not None and (
        payments.is_disputed(conn, row.payment_id) or disputes.held_on(conn, row.payment_id)
    )
    if held and ledger.transition(conn, row.id, states.REVIEW, expect=states.APPROVED):
        ledger.set_decision(conn, row.id, {**detail, HOLD_KEY: reason}, row.policy_version)
        audit.write(conn, "worker", "held_for_dispute", refund_id=row.id, reason=reason)
        return True
    ledger.set_decision(conn, row.id, detail, row.policy_version)  # the dispute is over: send it
    return False


def _held_by_dispute(row: Refund) -> bool:
    """In review because of a dispute: held by an event, or sent there by the policy's dispute rule."""
    detail = row.decision or {}
    rules = (detail.get("decision") or {}).get("rules") or ()
    return HOLD_KEY in detail or any(isinstance(r, dict) and r.get("rule") == "hard.dispute" for r in rules)


def _release(hub: Hub, refund_id: str, route: str, event: DisputeEvent, now: datetime) -> None:
    """The policy decides a refund the dispute held once more; only its approval moves on."""
    from hub.policy import decide as evaluate

    with write(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
        if row is None or row.state != states.REVIEW or not _held_by_dispute(row):
            return
        policy = hub.policy_for(row.connector, row.store_id)
        decision = evaluate(
            policy,
            RefundRequest.model_validate(row.request),
            build_history(conn, row, policy.history_lookback_days, now),
            now,
        )
        detail = {k: v for k, v in (row.decision or {}).items() if k != HOLD_KEY}
        detail["decision"] = decision.to_dict()
        outcome = _approve_again(conn, row, decision.amount) if decision.action in APPROVALS else decision.action
        ledger.set_decision(conn, refund_id, detail, decision.policy_version)
        audit.write(
            conn,
            route,
            "dispute_released" if outcome == states.APPROVED else "dispute_closed_still_review",
            refund_id=refund_id,
            dispute_id=event.dispute_id,
            verdict=decision.action,
            outcome=outcome,
        )


def _approve_again(conn: Unit, row: Refund, amount: int) -> str:
    """Reserve the policy's amount again and queue the refund; why not, if it cannot be."""
    if row.payment_id is None:
        return "no payment"
    try:
        payments.reserve(conn, row.id, row.payment_id, amount, expect=states.REVIEW)
    except (PaymentBusy, OverRefund) as exc:
        return str(exc)[:200]
    jobs.add(conn, JobKind.REFUND, row.id)
    return states.APPROVED
