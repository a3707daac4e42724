"""An offered alternative taken for real: the customer (or a reviewer) accepts it, and the hub
issues it on the platform — store credit, or a coupon bound to the customer — once.

Accepting writes the credit (amount and bonus per the decision and the store) and its ``credit``
job in one transaction; a second click finds the credit and does nothing. The job asks the
connector with the credit's id as its key: a lost answer leaves it ``unknown`` and the retry
looks for the first issue under the same key before issuing (never a second credit). Issuing
does not move the refund out of ``offered``: no money goes back to the payment, and a person can
no longer approve a refund for it (``review``).
"""

from __future__ import annotations

from hub.contracts import CreditIssue, CreditResult, Outcome
from hub.errors import PlatformUnavailable
from hub.ledger import audit, credits, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.unit import read, write
from hub.pipeline.notice_text import with_bonus
from hub.pipeline.notify import announce
from hub.runtime.bootstrap import Hub

KINDS = {"store_credit": "store_credit"}  # what the policy offers -> what is issued


class CannotAccept(ValueError):
    """The refund has no alternative on offer (any more)."""


def accept(hub: Hub, refund_id: str, actor: str) -> credits.Credit:
    """Take the refund's offered alternative; the same credit however often it is asked."""
    with hub.engine.begin() as conn:  # durable: what the customer was promised is now owed
        row = ledger.get(conn, refund_id)
        if row is None:
            raise LookupError(refund_id)
        taken = credits.of_refund(conn, refund_id)
        if taken is not None:
            return taken
        decision = (row.decision or {}).get("decision") or {}
        kind = KINDS.get(str(decision.get("alternative") or ""))
        if row.state != states.OFFERED or kind is None:
            raise CannotAccept(f"refund {refund_id} has no alternative to take ({row.state})")
        total, bonus = with_bonus(hub.stores[row.connector].get(row.store_id), int(decision.get("amount") or 0))
        credit, created = credits.open_credit(
            conn, refund_id, kind=kind, amount=total, bonus=bonus, currency=row.currency, accepted_by=actor
        )
        if created:
            jobs.add(conn, JobKind.CREDIT, refund_id)
            audit.write(conn, actor, "alternative_accepted", refund_id=refund_id, kind=kind, amount=total, bonus=bonus)
    hub.dispatcher.wake()
    return credit


def issue(hub: Hub, refund_id: str) -> str | None:
    """The ``credit`` job: issue the accepted alternative; its state afterwards."""
    with read(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
        credit = credits.of_refund(conn, refund_id)
    if row is None or credit is None or credit.state in (credits.ISSUED, credits.FAILED):
        return credit.state if credit else None
    store = hub.stores[row.connector].get(row.store_id)
    if store is None:
        raise PlatformUnavailable(f"store {row.store_id} is disabled; credit {credit.id} waits")
    customer = (row.request or {}).get("customer") or {}
    order = CreditIssue(
        key=credit.id,
        hub_refund_id=row.id,
        order_id=row.order_id,
        kind=credit.kind,
        amount=credit.amount,
        currency=credit.currency,
        customer_id=customer.get("id"),
        email=customer.get("email"),
        note=f"Refund Hub {row.id}: alternative to a refund of order {row.order_id}",
    )
    try:
        result = hub.connectors[row.connector].issue_credit(store, order)
    except PlatformUnavailable as exc:
        result = CreditResult(Outcome.UNKNOWN, message=str(exc))
    return _record(hub, row.id, credit, result)


def _record(hub: Hub, refund_id: str, credit: credits.Credit, result: CreditResult) -> str:
    with write(hub.engine) as conn:
        if result.outcome is Outcome.SUCCEEDED:
            issued = {"reference": result.reference, "code": result.code, "kind": result.kind}
            if credits.settle(conn, credit.id, credits.ISSUED, **issued):
                audit.write(
                    conn,
                    "worker",
                    "credit_issued",
                    refund_id=refund_id,
                    kind=result.kind or credit.kind,
                    amount=credit.amount,
                    bonus=credit.bonus,
                    reference=result.reference,
                    credit_id=credit.id,
                )
                announce(conn, refund_id, "credited")
            return credits.ISSUED
        # unavailable (surely not issued) and unknown both retry; the key finds an earlier issue
        state = credits.FAILED if result.outcome is Outcome.FAILED else credits.UNKNOWN
        credits.settle(conn, credit.id, state, error=result.message)
        audit.write(
            conn,
            "worker",
            "credit_failed" if state == credits.FAILED else "credit_unknown",
            refund_id=refund_id,
            credit_id=credit.id,
            message=result.message,
        )
        if state == credits.FAILED:
            ledger.flag_needs_person(conn, refund_id)  # what was promised must still be given
    if state == credits.UNKNOWN:  # the job retries: the connector looks for it under the key first
        raise PlatformUnavailable(f"credit {credit.id} of refund {refund_id}: {result.message or 'no answer'}")
    return state
