"""A person's decision on a refund the policy sent to review (or an offered alternative).

Maker-checker: above the store's ``two_approvers_above`` (minor units of the refund's currency)
an approval needs a second, different approver for the same amount before the money moves; the
first approver cannot also be the checker, nor can the person who last changed the refund. A
denial after review is told to the customer like a policy's denial, with the reviewer's reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger import approvals, audit, credits, payments, states, views
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.records import Refund
from hub.ledger.unit import Unit
from hub.pipeline.notify import announce
from hub.runtime.bootstrap import Hub

PERSON_CHANGES = frozenset({"amended", "requested_by_person"})  # who asked for or changed it is its maker


@dataclass(frozen=True)
class Reviewed:
    """The refund's state after the decision; ``awaiting_checker``: a first approval is recorded
    and a second approver must confirm it."""

    state: str
    awaiting_checker: bool = False


def review_decision(
    hub: Hub,
    refund_id: str,
    approve: bool,
    actor: str,
    amount: int | None = None,
    note: str = "",
    approver: str | None = None,
) -> Reviewed:
    """Approve (the whole amount, or ``amount``) or deny. ``approver`` names the person for the
    maker-checker rule (default: ``actor``).

    Raises ``LookupError`` for an unknown refund and ``ValueError`` for one not waiting for a
    person, or an approval the rules do not allow from this person.
    """
    approver = approver or actor
    with hub.engine.begin() as conn:  # durable: a person's approval moves money
        row = ledger.get(conn, refund_id)
        if row is None:
            raise LookupError(refund_id)
        if row.state not in (states.REVIEW, states.OFFERED):
            raise ValueError(f"refund {refund_id} is {row.state}, not in review")
        if credits.of_refund(conn, refund_id) is not None:  # what was offered instead is owed already
            raise ValueError(f"the customer took the alternative offered for refund {refund_id}")
        if approve:
            outcome = _approve(hub, conn, row, actor, approver, amount if amount is not None else row.amount, note)
        else:
            outcome = _deny(conn, row, actor, note)
    hub.dispatcher.wake()
    return outcome


def _approve(hub: Hub, conn: Unit, row: Refund, actor: str, approver: str, value: int, note: str) -> Reviewed:
    if row.payment_id is None:
        raise ValueError(f"refund {row.id} has no payment to refund")
    if _needs_two(hub, row, value):
        if {approver, actor} & _makers(conn, row.id):
            raise ValueError("you last changed this refund: another approver must check it")
        given = approvals.of(conn, row.id)
        checked = any(amt == value for who, amt in given.items() if who != approver)
        if not checked:
            if given.get(approver) == value:
                raise ValueError("you approved it already: a second, different approver must check it")
            approvals.record(conn, row.id, approver, value)
            audit.write(conn, actor, "first_approval", refund_id=row.id, amount=value, note=note)
            return Reviewed(row.state, awaiting_checker=True)
    payments.reserve(conn, row.id, row.payment_id, value, expect=row.state)
    approvals.record(conn, row.id, approver, value)
    jobs.add(conn, JobKind.REFUND, row.id)
    announce(conn, row.id, "approved")
    audit.write(conn, actor, "reviewed", refund_id=row.id, state=states.APPROVED, amount=value, note=note)
    return Reviewed(states.APPROVED)


def _deny(conn: Unit, row: Refund, actor: str, note: str) -> Reviewed:
    ledger.transition(conn, row.id, states.DENIED, expect=row.state)
    detail = {**(row.decision or {}), "reviewed": {"verdict": "deny", "reason": note, "by": actor}}
    ledger.set_decision(conn, row.id, detail, row.policy_version)
    approvals.clear(conn, row.id)
    announce(conn, row.id, "denied")  # the customer hears of it, as of a policy's denial
    audit.write(conn, actor, "reviewed", refund_id=row.id, state=states.DENIED, amount=None, note=note)
    return Reviewed(states.DENIED)


def _needs_two(hub: Hub, row: Refund, value: int) -> bool:
    directory = hub.stores.get(row.connector)
    store = directory.get(row.store_id) if directory is not None else None
    threshold = store.settings.get("two_approvers_above") if store is not None else None
    return threshold is not None and value > int(threshold)


def _makers(conn: Unit, refund_id: str) -> set[str]:
    """People who asked for or last changed the refund: they cannot be its checker."""
    return {e.actor for e in views.trail(conn, refund_id) if e.action in PERSON_CHANGES}
