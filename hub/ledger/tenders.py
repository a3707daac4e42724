"""Refunds paid back across several tenders: allocation, the parts, and how their outcomes add up.

An order paid more than one way (a gift card and a card, store credit and a card, a payment
captured in parts) has one tender per payment, each with its own captured balance, gateway and
route. A refund on such an order is split into **parts**: one refund row per tender with money
to give back (``parent_id`` names the refund it is a part of), each with its own idempotency key,
reserved on its own tender's balance under that payment's lock and run through the same
execute → settle → resolve path as any refund. The refund itself only holds the parts together.

Allocation follows the platform's own suggestion where it gave one (``Payment.suggested``:
Shopify's ``suggestedRefund.suggestedTransactions``), never past a tender's maximum
(``Payment.refundable``) or the hub's own balance; otherwise the store's strategy decides
(``STRATEGIES``), with largest-remainder splits so the parts add up exactly.

How the parts add up (``roll_up``): all succeeded → the refund succeeded; all written back → written
back; all failed → failed; some failed and some moved money → **partly failed**: the refund stays
``executing``, flagged for a person, until ``retry_failed`` (a new part, new key, for each failed
one) or ``accept_partial`` settles it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hub.db.tables import refunds
from hub.db.tables_tenders import refund_tenders
from hub.db.upsert import insert_ignore
from hub.errors import IllegalTransition, OverRefund
from hub.ledger import audit, payments, states
from hub.ledger import outbox as jobs
from hub.ledger.records import Refund, from_row
from hub.ledger.refunds import get, idempotency_key_for, new_refund_id, now, transition
from hub.models import RefundRequest, TenderKind
from hub.models.money import allocate as largest_remainder

PROPORTIONAL = "proportional"
CREDIT_FIRST = "credit_first"
CARD_FIRST = "card_first"
IN_ORDER = "in_order"
STRATEGIES = (PROPORTIONAL, CREDIT_FIRST, CARD_FIRST, IN_ORDER)
DEFAULT_STRATEGY = PROPORTIONAL  # back in the proportions the customer paid, when nobody says otherwise
CREDITS = frozenset({TenderKind.GIFT_CARD.value, TenderKind.STORE_CREDIT.value})
SPLIT_ROUTE = "tenders"  # the route of a refund whose parts each have their own
PART_KIND = "part"
UNROUTED = "unrouted"  # a tender whose label the store maps to no route
ACTOR = "ledger"


# allocation (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tender:
    """One tender as allocation sees it: its kind, what may still go back to it, the platform's share."""

    kind: str
    available: int
    suggested: int | None = None


def allocate(amount: int, tenders: Sequence[Tender], strategy: str = DEFAULT_STRATEGY) -> list[int]:
    """``amount`` split across ``tenders`` (one share per tender, in order), each within what is
    available on it; raise ``OverRefund`` when the tenders together cannot take it.

    The platform's suggestion wins where every tender has one: exactly it for the amount it was made
    for, scaled down by largest remainder for less, and topped up by ``strategy`` for more."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown allocation strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    available = [max(0, t.available) for t in tenders]
    if amount > sum(available):
        shown = ", ".join(f"{t.kind} {a}" for t, a in zip(tenders, available, strict=True))
        raise OverRefund(f"{amount} would exceed the refundable balance {sum(available)} of all tenders ({shown})")
    suggested = [t.suggested for t in tenders]
    if suggested and all(s is not None for s in suggested) and sum(s or 0 for s in suggested) > 0:
        capped = [min(s or 0, a) for s, a in zip(suggested, available, strict=True)]
        if amount <= sum(capped):
            return largest_remainder(amount, capped)
        rest = [a - c for a, c in zip(available, capped, strict=True)]
        extra = _fill(amount - sum(capped), rest, _order(tenders, strategy))
        return [c + e for c, e in zip(capped, extra, strict=True)]
    if strategy == PROPORTIONAL:
        return largest_remainder(amount, available)
    return _fill(amount, available, _order(tenders, strategy))


def _order(tenders: Sequence[Tender], strategy: str) -> list[int]:
    """The order tenders are filled in: credit first, card first, or as the platform lists them."""
    positions = list(range(len(tenders)))
    if strategy == CREDIT_FIRST:
        return sorted(positions, key=lambda i: tenders[i].kind not in CREDITS)
    if strategy == CARD_FIRST:
        return sorted(positions, key=lambda i: tenders[i].kind in CREDITS)
    return positions


def _fill(amount: int, available: Sequence[int], order: Sequence[int]) -> list[int]:
    shares, left = [0] * len(available), amount
    for i in order:
        shares[i] = min(left, available[i])
        left -= shares[i]
    return shares


# the plan: which tenders a refund allocates across ---------------------------------------------


@dataclass(frozen=True)
class Planned:
    position: int  # index into the request's payments
    payment_id: int
    route: str
    strategy: str


def save_plan(conn: Connection, refund_id: str, planned: Sequence[tuple[int, str]], strategy: str) -> None:
    """The tenders (payment row, route) of a refund, in the request's order; decided again, replaced."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown allocation strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    conn.execute(delete(refund_tenders).where(refund_tenders.c.refund_id == refund_id))
    if len(planned) < 2:
        return  # one tender: the plain path
    conn.execute(
        insert(refund_tenders),
        [
            {"refund_id": refund_id, "position": i, "payment_id": payment_id, "route": route, "strategy": strategy}
            for i, (payment_id, route) in enumerate(planned)
        ],
    )


def plan_of(conn: Connection, refund_id: str) -> list[Planned]:
    rows = conn.execute(
        select(refund_tenders).where(refund_tenders.c.refund_id == refund_id).order_by(refund_tenders.c.position)
    ).all()
    return [Planned(r.position, r.payment_id, r.route, r.strategy) for r in rows]


# reserving the parts -----------------------------------------------------------------------------


def reserve_split(
    conn: Connection, refund_id: str, plan: Sequence[Planned], amount: int, *, expect: str | tuple[str, ...]
) -> list[str]:
    """Approve ``amount`` across the refund's tenders and open one part per tender that takes a
    share, each with its own key, reserved on its own payment and with its own ``refund`` job.

    Every payment of the plan is locked (in id order, so two reservations never deadlock) before
    any balance is read; a tender with a refund in doubt holds the whole refund (``PaymentBusy``)."""
    refund = get(conn, refund_id)
    if refund is None:
        raise IllegalTransition(f"refund {refund_id} does not exist")
    request = RefundRequest.model_validate(refund.request)
    locked = {pid: payments.lock(conn, pid) for pid in sorted({p.payment_id for p in plan})}
    for pid in locked:
        payments.refuse_in_doubt(conn, pid, refund_id)
    balance = {pid: row.captured - payments.committed(conn, pid, excluding=refund_id) for pid, row in locked.items()}
    tenders = []
    for planned in plan:
        tender = request.payments[planned.position]
        available = balance[planned.payment_id] if planned.route != UNROUTED else 0  # nobody may move it
        if tender.refundable is not None:
            available = min(available, tender.refundable)
        tenders.append(Tender(tender.tender.value, available, tender.suggested))
    shares = allocate(amount, tenders, plan[0].strategy)
    approved = transition(
        conn, refund_id, states.APPROVED, expect=expect, payment_id=None, approved_amount=amount, route=SPLIT_ROUTE
    )
    if not approved or not transition(conn, refund_id, states.EXECUTING, expect=states.APPROVED, lease_until=None):
        raise IllegalTransition(f"refund {refund_id} changed state while it was being approved")
    taking = [(p, s) for p, s in zip(plan, shares, strict=True) if s > 0]
    carrier = next((p for p, _ in taking if p.route == "platform"), taking[0][0])
    made = [_open_part(conn, refund, request, p, share, carries_lines=p is carrier) for p, share in taking]
    audit.write(
        conn,
        ACTOR,
        "split_across_tenders",
        refund_id=refund_id,
        strategy=plan[0].strategy,
        suggested=all(t.suggested is not None for t in tenders),
        parts=[
            {"part": part_id, "tender": request.payments[p.position].platform_label, "route": p.route, "amount": s}
            for part_id, (p, s) in zip(made, taking, strict=True)
        ],
    )
    return made


def _open_part(
    conn: Connection,
    parent: Refund,
    request: RefundRequest,
    planned: Planned,
    amount: int,
    *,
    carries_lines: bool,
    suffix: str = "",
) -> str:
    """A part: its own refund row (own id and key) on one tender, approved, with its ``refund`` job.

    Only one part carries the request's lines and shipping (the platform-routed one, if any), so a
    platform that records lines with its refund (Shopify) is never told of them twice. A part holds
    no customer facts: the policy's history counts the refund once, by its parent."""
    part_id = new_refund_id()
    tender = request.payments[planned.position]
    part_request = request.model_copy(
        update={
            "payments": (tender,),
            "amount": amount,
            "lines": request.lines if carries_lines else (),
            "shipping": request.shipping if carries_lines else 0,
            "source_ref": f"{request.source_ref}#{planned.position}{suffix}",
        }
    )
    at = now()
    insert_ignore(
        conn,
        refunds,
        {
            "id": part_id,
            "connector": parent.connector,
            "store_id": parent.store_id,
            "source_ref": part_request.source_ref,
            "order_id": parent.order_id,
            "kind": PART_KIND,
            "state": states.APPROVED,
            "money_moved": False,
            "amount": amount,
            "approved_amount": amount,
            "currency": parent.currency,
            "route": planned.route,
            "payment_id": planned.payment_id,
            "idempotency_key": idempotency_key_for(part_id),
            "request": part_request.model_dump(mode="json"),
            "decision": {"part_of": parent.id, "tender": planned.position, "carries_lines": carries_lines},
            "policy_version": parent.policy_version,
            "attempts": 0,
            "parent_id": parent.id,
            "created_at": at,
            "updated_at": at,
        },
        conflict=("id",),
    )
    jobs.add(conn, jobs.JobKind.REFUND, part_id)
    return part_id


# the parts and how they add up ---------------------------------------------------------------------


def parts_of(conn: Connection, parent_id: str) -> list[Refund]:
    """Every part of the refund, oldest first (replaced ones included)."""
    rows = conn.execute(select(refunds).where(refunds.c.parent_id == parent_id).order_by(refunds.c.created_at)).all()
    return [from_row(Refund, row) for row in rows]


def live_parts(conn: Connection, parent_id: str) -> list[Refund]:
    """The parts that count: a failed part a person had re-tried is replaced by its retry."""
    return [p for p in parts_of(conn, parent_id) if not (p.decision or {}).get("replaced_by")]


def partly_failed(parts: Sequence[Refund]) -> bool:
    return any(p.state == states.FAILED for p in parts) and any(p.state in states.SUCCESSES for p in parts)


def summary(conn: Connection, parent_id: str) -> dict[str, Any]:
    """Each part of a refund, for the audit trail and a person's screen."""
    parts = live_parts(conn, parent_id)
    return {
        "partly_failed": partly_failed(parts),
        "moved": sum(p.approved_amount or 0 for p in parts if p.state in states.SUCCESSES),
        "parts": [
            {
                "part": p.id,
                "state": p.state,
                "route": p.route,
                "amount": p.approved_amount,
                "tender": ((p.request.get("payments") or [{}])[0]).get("platform_label"),
                "reference": ((p.request.get("payments") or [{}])[0]).get("reference"),
                "gateway_refund_id": p.gateway_refund_id,
            }
            for p in parts
        ],
    }


def roll_up(conn: Connection, parent_id: str) -> str | None:
    """Move the refund to where its parts stand (idempotent; call after any part changed).
    Returns the refund's state afterwards."""
    parent = get(conn, parent_id)
    if parent is None:
        return None
    parts = live_parts(conn, parent_id)
    if not parts:
        return parent.state
    found = {p.state for p in parts}
    state = parent.state
    if state == states.EXECUTING and found <= states.SUCCESSES:
        if transition(conn, parent_id, states.SUCCEEDED, expect=states.EXECUTING, executed_at=now()):
            audit.write(conn, ACTOR, "parts_succeeded", refund_id=parent_id, **summary(conn, parent_id))
            jobs.ensure(conn, jobs.JobKind.WRITE_BACK, parent_id)  # what the hub paid out is recorded at once
        state = states.SUCCEEDED
    elif state == states.EXECUTING and found == {states.FAILED}:
        last = "; ".join(p.last_error or p.state for p in parts)[:500]
        if transition(conn, parent_id, states.FAILED, expect=states.EXECUTING, last_error=last):
            audit.write(conn, ACTOR, "parts_failed", refund_id=parent_id, **summary(conn, parent_id))
        state = states.FAILED
    elif state == states.EXECUTING and found <= {states.FAILED} | states.SUCCESSES and partly_failed(parts):
        _flag(conn, parent_id, "partly_failed")  # executing until a person re-tries or accepts
    elif state in states.SUCCESSES and any(p.state == states.FAILED and not _accepted(p) for p in parts):
        _flag(conn, parent_id, "part_failed_late")  # a gateway took a part back after it succeeded
    if state == states.SUCCEEDED and states.WRITTEN_BACK in found and found <= {states.WRITTEN_BACK, states.FAILED}:
        refs = ",".join(sorted({p.writeback_ref for p in parts if p.writeback_ref}))[:255] or None
        if transition(conn, parent_id, states.WRITTEN_BACK, expect=states.SUCCEEDED, writeback_ref=refs):
            audit.write(conn, ACTOR, "written_back", refund_id=parent_id, by="parts")
        state = states.WRITTEN_BACK
    return state


def _accepted(part: Refund) -> bool:
    return bool((part.decision or {}).get("accepted"))


def _flag(conn: Connection, parent_id: str, why: str) -> None:
    flagged = conn.execute(
        update(refunds).where(refunds.c.id == parent_id, refunds.c.needs_person.is_(False)).values(needs_person=True)
    )
    if flagged.rowcount == 1:
        audit.write(conn, ACTOR, why, refund_id=parent_id, **summary(conn, parent_id))


# a person settles a partly failed refund --------------------------------------------------------------


def retry_failed(conn: Connection, parent_id: str, actor: str) -> list[str]:
    """Each failed part of a partly failed refund tried again as a new part (new id, new key: the
    old key would only replay the decline), reserved again on its tender. Returns the new parts."""
    parent = get(conn, parent_id)
    if parent is None or parent.state != states.EXECUTING:
        raise IllegalTransition(f"refund {parent_id} has no failed parts to retry")
    request = RefundRequest.model_validate(parent.request)
    plan = {p.position: p for p in plan_of(conn, parent_id)}
    made: list[str] = []
    for part in live_parts(conn, parent_id):
        if part.state != states.FAILED or part.payment_id is None:
            continue
        position = int((part.decision or {}).get("tender", 0))
        row = payments.lock(conn, part.payment_id)
        payments.refuse_in_doubt(conn, part.payment_id, part.id)
        left = row.captured - payments.committed(conn, part.payment_id)
        amount = part.approved_amount or 0
        if amount > left:
            raise OverRefund(f"{amount} would exceed the refundable balance {left} of tender {position}")
        carries = bool((part.decision or {}).get("carries_lines"))
        retry = _open_part(
            conn,
            parent,
            request,
            plan[position],
            amount,
            carries_lines=carries,
            suffix=f".{len(made) + 1}{part.id[-4:]}",
        )
        _mark(conn, part, replaced_by=retry)
        made.append(retry)
    if not made:
        raise IllegalTransition(f"refund {parent_id} has no failed parts to retry")
    _unflag(conn, parent_id)
    audit.write(conn, actor, "parts_retried", refund_id=parent_id, retries=made)
    return made


def accept_partial(conn: Connection, parent_id: str, actor: str) -> str | None:
    """A person accepts what moved: the refund succeeded for its parts that did, the failed ones
    stay failed (their money was never reserved again). Returns the refund's state afterwards."""
    parent = get(conn, parent_id)
    parts = live_parts(conn, parent_id)
    if parent is None or parent.state != states.EXECUTING or not partly_failed(parts):
        raise IllegalTransition(f"refund {parent_id} is not partly failed")
    if any(p.state not in states.SUCCESSES | {states.FAILED} for p in parts):
        raise IllegalTransition(f"refund {parent_id} still has parts in flight")
    for part in parts:
        if part.state == states.FAILED:  # settled by a person: not a late failure to flag again
            _mark(conn, part, accepted=True)
    transition(conn, parent_id, states.SUCCEEDED, expect=states.EXECUTING, executed_at=now())
    jobs.ensure(conn, jobs.JobKind.WRITE_BACK, parent_id)
    _unflag(conn, parent_id)
    audit.write(conn, actor, "partial_accepted", refund_id=parent_id, **summary(conn, parent_id))
    return roll_up(conn, parent_id)


def _mark(conn: Connection, part: Refund, **facts: Any) -> None:
    """What a person settled about a part, kept with it."""
    decision = {**(part.decision or {}), **facts}
    conn.execute(update(refunds).where(refunds.c.id == part.id).values(decision=decision, updated_at=now()))


def _unflag(conn: Connection, parent_id: str) -> None:
    conn.execute(update(refunds).where(refunds.c.id == parent_id).values(needs_person=False))
