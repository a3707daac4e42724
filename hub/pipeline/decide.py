"""Run the store's policy on a requested refund and act on the decision.

Approval reserves the amount against the payment's refundable balance in the same transaction
that records the decision (invariant 2); the execution job is written there too. A denial or an
alternative is told to the customer by a ``notify`` job after the commit.

The steps, each its own function: find the route → read the payment's dispute flag → (one
transaction) place the payment, build the history, evaluate the policy, guard the approval,
reserve or move, record and audit, schedule what follows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.contracts import Connector, PaymentState, StoreContext
from hub.errors import OverRefund, PaymentBusy
from hub.ledger import audit, payments, states, tenders
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.history import build_history
from hub.ledger.outbox import JobKind
from hub.ledger.records import Refund
from hub.ledger.unit import Unit, read, write
from hub.models import Payment, RefundRequest
from hub.pipeline.notify import announce_state
from hub.pipeline.routing import NoRoute, gateway_account, route_for
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import DECISIONS, count_unknown_inputs

log = logging.getLogger(__name__)
NEXT_STATE = {
    "approve": states.APPROVED,
    "approve_partial": states.APPROVED,
    "deny": states.DENIED,
    "review": states.REVIEW,
    "offer_alternative": states.OFFERED,
}


class TryLater(Exception):
    """The decision must wait (an earlier refund on the payment is unresolved)."""


@dataclass
class Verdict:
    """The policy's decision and what the hub made of it: the state to move to and why."""

    decision: Any
    history: Any
    state: str
    detail: dict[str, Any] = field(default_factory=dict)

    def hold(self, key: str, why: str) -> None:
        """An approval that must go to a person instead, with the reason under ``key``."""
        if self.state == states.APPROVED:
            self.state, self.detail[key] = states.REVIEW, why


def decide(hub: Hub, refund_id: str, now: datetime | None = None) -> str | None:
    """Decide a ``requested`` refund; returns its state afterwards (None: no such refund)."""
    now = now or datetime.now(UTC)
    with read(hub.engine) as conn:
        refund = ledger.get(conn, refund_id)
    if refund is None or refund.state != states.REQUESTED:
        return refund.state if refund is not None else None
    request = RefundRequest.model_validate(refund.request)
    store = hub.stores[refund.connector].get(refund.store_id)
    if store is None:
        return _to_review(hub, refund_id, "store is disabled or unknown")
    routes, no_route = _routes(store, hub.connectors[refund.connector], request)
    route = routes[0] if routes else None
    held, unchecked = _refresh_payments(hub, store.id, routes, request)
    with write(hub.engine) as conn:
        placed = [payments.upsert(conn, store.id, r or "unrouted", p) for p, r in zip(held, routes, strict=False)]
        payment_id = placed[0] if placed else None
        ledger.set_payment(conn, refund_id, payment_id, route)
        tenders.save_plan(
            conn, refund_id, [(p, r or "unrouted") for p, r in zip(placed, routes, strict=False)], _strategy(store)
        )
        refund = ledger.get(conn, refund_id)
        assert refund is not None
        verdict = _evaluate(hub, conn, refund, request, now)
        if no_route:
            verdict.hold("route_problem", no_route)
        if unchecked:  # never move money the payment may be disputed for
            verdict.hold("dispute_unchecked", unchecked)
        disputed = [
            p.reference
            for p, pid in zip(request.payments[1:], placed[1:], strict=False)
            if payments.is_disputed(conn, pid)
        ]
        if disputed:  # the policy saw the first tender's flag; any other tender's holds it too
            verdict.hold("dispute", f"tender {', '.join(disputed)} is disputed")
        _apply(conn, refund_id, payment_id, verdict)
        _record(conn, refund_id, verdict)
        _shadow(hub, conn, refund_id, request, verdict, now)
    DECISIONS.labels(action=verdict.decision.action).inc()
    count_unknown_inputs((hit.rule for hit in verdict.decision.rules), refund.connector)
    hub.dispatcher.wake()
    return verdict.state


def _routes(store: StoreContext, connector: Connector, request: RefundRequest) -> tuple[list[str | None], str | None]:
    """The route of every tender, in order, and why there is none when no tender has one (the refund
    then goes to a person). A tender the store routes nowhere (a gift card no API can credit) only
    gets no share of the refund: if the others cannot take it all, the balance check holds it."""
    if not request.payments:
        return [], "the request names no payment"
    routes: list[str | None] = []
    problems: list[str] = []
    for payment in request.payments:
        try:
            routes.append(route_for(store, connector, payment))
        except NoRoute as exc:
            routes.append(None)
            problems.append(str(exc))
    return routes, "; ".join(problems) if not any(routes) else None


def _strategy(store: StoreContext) -> str:
    """How the store splits a refund across tenders where the platform suggests nothing."""
    chosen = str(store.settings.get("tender_strategy") or tenders.DEFAULT_STRATEGY)
    if chosen not in tenders.STRATEGIES:
        log.warning("store %s: unknown tender_strategy %r, using %s", store.id, chosen, tenders.DEFAULT_STRATEGY)
        return tenders.DEFAULT_STRATEGY
    return chosen


def _evaluate(hub: Hub, conn: Unit, refund: Refund, request: RefundRequest, now: datetime) -> Verdict:
    from hub.policy import decide as evaluate

    policy = hub.policy_for(refund.connector, refund.store_id)
    history = build_history(conn, refund, policy.history_lookback_days, now)
    decision = evaluate(policy, request, history, now)
    return Verdict(decision, history, NEXT_STATE[decision.action], {"decision": decision.to_dict()})


def _apply(conn: Unit, refund_id: str, payment_id: int | None, verdict: Verdict) -> None:
    """Reserve an approval against the balance, or move the refund to its decided state."""
    if verdict.state == states.APPROVED:
        assert payment_id is not None  # an approval without a payment was held for a person
        try:
            payments.reserve(conn, refund_id, payment_id, verdict.decision.amount, expect=states.REQUESTED)
        except PaymentBusy as exc:
            raise TryLater(str(exc)) from exc
        except OverRefund as exc:
            verdict.hold("balance_problem", str(exc))
    if verdict.state != states.APPROVED:
        ledger.transition(conn, refund_id, verdict.state, expect=states.REQUESTED)


def _record(conn: Unit, refund_id: str, verdict: Verdict) -> None:
    """The decision on the refund and in the audit trail, and the job that follows it."""
    decision = verdict.decision
    ledger.set_decision(conn, refund_id, verdict.detail, decision.policy_version)
    audit.write(
        conn,
        "policy",
        "decided",
        refund_id=refund_id,
        verdict=decision.action,
        state=verdict.state,
        amount=decision.amount,
        rules=[r.rule for r in decision.rules],
        policy_version=decision.policy_version,
        **{k: v for k, v in verdict.detail.items() if k != "decision"},
    )
    if verdict.state == states.APPROVED and not tenders.plan_of(conn, refund_id):
        jobs.add(conn, JobKind.REFUND, refund_id)  # a refund split across tenders has a job per part
    announce_state(conn, refund_id, verdict.state)  # durable: a platform hiccup must not swallow the notice


def _shadow(hub: Hub, conn: Unit, refund_id: str, request: RefundRequest, verdict: Verdict, now: datetime) -> None:
    """The candidate policy decides beside the live one, on the same history; only the audit
    trail sees it."""
    from hub.policy import decide as evaluate

    shadow = hub.config.hub.shadow_policy
    if not shadow:
        return
    candidate = evaluate(hub.policies[shadow], request, verdict.history, now)
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
        differs=candidate.action != verdict.decision.action,
    )


def _refresh_payments(
    hub: Hub, store_id: str, routes: list[str | None], request: RefundRequest
) -> tuple[list[Payment], str | None]:
    """Every tender as the ledger holds it (captured as the gateway says) and why a gateway-routed
    tender's dispute flag could not be read, if one could not."""
    held: list[Payment] = []
    problems: list[str] = []
    for payment, route in zip(request.payments, routes, strict=False):
        payment_held, problem = _refresh_payment(hub, store_id, route, payment)
        held.append(payment_held)
        if problem:
            problems.append(problem)
    return held, "; ".join(problems)[:500] or None


def _refresh_payment(hub: Hub, store_id: str, route: str | None, payment: Payment) -> tuple[Payment, str | None]:
    """Ask the gateway for the payment's dispute flag (never refund money under dispute) and what it
    captured: a payment captured in part (a Stripe ``amount_to_capture`` below the authorization, a
    Square payment completed for less) holds only that, whatever the platform's order says.

    Returns the payment as the ledger is to hold it and why the flag could not be checked, if it
    could not: an approval then goes to review (a person decides) rather than trusting a flag nobody
    read — a lookup that keeps failing must neither block the refund forever nor let money go back
    on a disputed payment."""
    account = gateway_account(route or "")
    if account is None or account not in hub.gateways:
        return payment, None
    try:
        state = hub.gateways[account].payment(payment.reference, payment.extra)
    except Exception as exc:  # noqa: BLE001 - any failure to read the flag sends an approval to a person
        log.warning("payment lookup failed for %s: %s", payment.reference, exc)
        problem = f"the dispute status of payment {payment.reference} could not be read from {account}: {exc}"
        return payment, problem[:500]
    held = captured_at_gateway(payment, state)
    with write(hub.engine) as conn:
        payments.upsert(conn, store_id, route or "", held)
        payments.set_disputed(conn, store_id, route or "", payment.reference, state.disputed)
    return held, None


def captured_at_gateway(payment: Payment, state: PaymentState) -> Payment:
    """The payment with the smaller of the platform's and the gateway's captured amount (in the same
    currency; a gateway answering in another currency says nothing comparable)."""
    if state.currency.upper() != payment.currency.upper() or state.captured >= payment.captured:
        return payment
    return payment.model_copy(update={"captured": max(0, state.captured)})


def _to_review(hub: Hub, refund_id: str, reason: str) -> str:
    with write(hub.engine) as conn:
        ledger.transition(conn, refund_id, states.REVIEW, expect=states.REQUESTED)
        audit.write(conn, "worker", "decided", refund_id=refund_id, state=states.REVIEW, reason=reason)
    return states.REVIEW
