"""A person's decision on a refund the policy sent to review (or an offered alternative)."""

from __future__ import annotations

from hub.ledger import audit, payments, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.runtime.bootstrap import Hub


def review_decision(
    hub: Hub, refund_id: str, approve: bool, actor: str, amount: int | None = None, note: str = ""
) -> str:
    """Approve (the whole amount, or ``amount``) or deny; returns the new state.

    Raises ``LookupError`` for an unknown refund and ``ValueError`` for one not waiting for a person.
    """
    with hub.engine.begin() as conn:  # durable: a person's approval moves money
        row = ledger.get(conn, refund_id)
        if row is None:
            raise LookupError(refund_id)
        if row.state not in (states.REVIEW, states.OFFERED):
            raise ValueError(f"refund {refund_id} is {row.state}, not in review")
        if approve:
            value = amount if amount is not None else row.amount
            if row.payment_id is None:
                raise ValueError(f"refund {refund_id} has no payment to refund")
            payments.reserve(conn, refund_id, row.payment_id, value, expect=row.state)
            jobs.add(conn, JobKind.REFUND, refund_id)
            state = states.APPROVED
        else:
            ledger.transition(conn, refund_id, states.DENIED, expect=row.state)
            state = states.DENIED
        audit.write(conn, actor, "reviewed", refund_id=refund_id, state=state, amount=amount, note=note)
    hub.dispatcher.wake()
    return state
