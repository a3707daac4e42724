"""Run the store's policy on a requested refund and act on the decision.

Approval reserves the amount against the payment's refundable balance in the same transaction
that records the decision (invariant 2); the execution job is written there too. A denial or an
alternative is told to the customer through the connector after the commit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from hub.contracts import DecisionNotice
from hub.db.engine import recoverable
from hub.db.tables import payments
from hub.errors import OverRefund, PaymentBusy
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.ledger.history import build_history
from hub.models import RefundRequest
from hub.pipeline.routing import NoRoute, gateway_account, route_for
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import DECISIONS
from hub.work import jobs

log = logging.getLogger(__name__)
NOTIFY = "notify"
NEXT_STATE = {
    "approve": states.APPROVED,
    "approve_partial": states.APPROVED,
    "deny": states.DENIED,
    "review": states.REVIEW,
    "offer_alternative": states.OFFERED,
}


class TryLater(Exception):
    """The decision must wait (an earlier refund on the payment is unresolved)."""


def decide(hub: Hub, refund_id: str, now: datetime | None = None) -> str:
    """Decide a ``requested`` refund; returns the new state."""
    from hub.policy import decide as evaluate

    now = now or datetime.now(UTC)
    with recoverable(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
    if row is None or row.state != states.REQUESTED:
        return row.state if row is not None else "missing"
    request = RefundRequest.model_validate(row.request)
    connector = hub.connectors[row.connector]
    store = hub.stores[row.connector].get(row.store_id)
    policy = hub.policy_for(row.connector, row.store_id)
    if store is None:
        return _settle(hub, refund_id, states.REVIEW, reason="store is disabled or unknown")
    route: str | None
    no_route: str | None
    try:
        route = route_for(store, connector, request.payments[0]) if request.payments else None
    except NoRoute as exc:
        route, no_route = None, str(exc)
    else:
        no_route = None if route else "the request names no payment"
    unchecked = _refresh_payment(hub, store.id, route, request)
    with recoverable(hub.engine) as conn:
        payment_id = (
            ledger.upsert_payment(conn, store.id, route or "unrouted", request.payments[0])
            if request.payments
            else None
        )
        conn.execute(
            update(ledger.refunds).where(ledger.refunds.c.id == refund_id).values(payment_id=payment_id, route=route)
        )
        row = ledger.get(conn, refund_id)
        history = build_history(conn, row, policy.history_lookback_days, now)
        decision = evaluate(policy, request, history, now)
        state = NEXT_STATE[decision.action]
        detail: dict[str, Any] = {"decision": decision.to_dict()}
        if state == states.APPROVED and no_route:
            state, detail["route_problem"] = states.REVIEW, no_route
        if state == states.APPROVED and unchecked:  # never move money the payment may be disputed for
            state, detail["dispute_unchecked"] = states.REVIEW, unchecked
        if state == states.APPROVED:
            try:
                ledger.reserve(conn, refund_id, payment_id, decision.amount, expect=states.REQUESTED)  # type: ignore[arg-type]
            except PaymentBusy as exc:
                raise TryLater(str(exc)) from exc
            except OverRefund as exc:
                state, detail["balance_problem"] = states.REVIEW, str(exc)
        if state != states.APPROVED:
            ledger.transition(conn, refund_id, state, expect=states.REQUESTED)
        conn.execute(
            update(ledger.refunds)
            .where(ledger.refunds.c.id == refund_id)
            .values(decision=detail, policy_version=decision.policy_version)
        )
        audit.write(
            conn,
            "policy",
            "decided",
            refund_id=refund_id,
            verdict=decision.action,
            state=state,
            amount=decision.amount,
            rules=[r.rule for r in decision.rules],
            policy_version=decision.policy_version,
            **{k: v for k, v in detail.items() if k != "decision"},
        )
        shadow = hub.config.hub.shadow_policy
        if shadow:  # the candidate decides beside the live policy; only the audit trail sees it
            candidate = evaluate(hub.policies[shadow], request, history, now)
            audit.write(
                conn,
                "policy",
                "shadow_decision",
                refund_id=refund_id,
                policy=shadow,
                verdict=candidate.action,
                amount=candidate.amount,
                rules=[r.rule for r in candidate.rules],
                policy_version=candidate.policy_version,
                differs=candidate.action != decision.action,
            )
        if state == states.APPROVED:
            jobs.add(conn, jobs.REFUND, refund_id)
        elif state in (states.DENIED, states.OFFERED):
            jobs.add(conn, NOTIFY, refund_id)  # durable: a platform hiccup must not swallow the note
    DECISIONS.labels(action=decision.action).inc()
    hub.dispatcher.wake()
    return state


def _refresh_payment(hub: Hub, store_id: str, route: str | None, request: RefundRequest) -> str | None:
    """Ask the gateway for the payment's dispute flag (never refund money under dispute).

    Returns why the flag could not be checked, if it could not: an approval then goes to review
    (a person decides) rather than trusting a flag nobody read — a lookup that keeps failing must
    neither block the refund forever nor let money go back on a disputed payment."""
    account = gateway_account(route or "")
    if account is None or account not in hub.gateways or not request.payments:
        return None
    payment = request.payments[0]
    try:
        state = hub.gateways[account].payment(payment.reference, payment.extra)
    except Exception as exc:
        log.warning("payment lookup failed for %s: %s", payment.reference, exc)
        return f"the dispute status of payment {payment.reference} could not be read from {account}: {exc}"[:500]
    with recoverable(hub.engine) as conn:
        ledger.upsert_payment(conn, store_id, route or "", payment)
        conn.execute(
            update(payments)
            .where(
                payments.c.store_id == store_id, payments.c.route == route, payments.c.reference == payment.reference
            )
            .values(disputed=state.disputed)
        )
    return None


def _settle(hub: Hub, refund_id: str, state: str, reason: str) -> str:
    with recoverable(hub.engine) as conn:
        ledger.transition(conn, refund_id, state, expect=states.REQUESTED)
        audit.write(conn, "worker", "decided", refund_id=refund_id, state=state, reason=reason)
    return state


def tell_customer(hub: Hub, refund_id: str) -> None:
    """Send the customer-facing explanation of a denial or an alternative to the platform.

    Runs as its own job; a failure raises so the job retries with backoff.
    """
    with recoverable(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
    if row is None or not row.decision or "decision" not in row.decision:
        return
    store = hub.stores[row.connector].get(row.store_id)
    if store is None:
        return
    decided = row.decision["decision"]
    notice = DecisionNotice(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        decision=decided["action"],
        explanation=decided["explanation"],
    )
    result = hub.connectors[row.connector].notify_decision(store, notice)
    with recoverable(hub.engine) as conn:
        audit.write(
            conn, "worker", "customer_notified", refund_id=row.id, reference=result.reference if result else None
        )


def review_decision(
    hub: Hub, refund_id: str, approve: bool, who: str, amount: int | None = None, note: str = ""
) -> str:
    """A person's decision on a refund in review (or an offered alternative)."""
    with hub.engine.begin() as conn:
        row = ledger.get(conn, refund_id)
        if row is None:
            raise LookupError(refund_id)
        if row.state not in (states.REVIEW, states.OFFERED):
            raise ValueError(f"refund {refund_id} is {row.state}, not in review")
        if approve:
            value = amount if amount is not None else row.amount
            if row.payment_id is None:
                raise ValueError(f"refund {refund_id} has no payment to refund")
            ledger.reserve(conn, refund_id, row.payment_id, value, expect=row.state)
            jobs.add(conn, jobs.REFUND, refund_id)
            state = states.APPROVED
        else:
            ledger.transition(conn, refund_id, states.DENIED, expect=row.state)
            state = states.DENIED
        audit.write(conn, f"admin:{who}", "reviewed", refund_id=refund_id, state=state, amount=amount, note=note)
    hub.dispatcher.wake()
    return state
