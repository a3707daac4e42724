"""Settle refunds whose outcome nobody knows yet: asking the executor, re-sending with the same
key only where that provably cannot pay twice, and flagging the rest for a person.

The janitor schedules these; the decisions about money are made here (invariant 3).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hub.contracts import Outcome, RefundLookup, RefundResult
from hub.ledger import audit, claims, states
from hub.ledger import outbox as jobs
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobKind
from hub.ledger.records import Refund
from hub.ledger.unit import write
from hub.models import RefundRequest
from hub.pipeline.routing import gateway_account
from hub.pipeline.settle import settle
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
ACTOR = "janitor"


def expire_executions(hub: Hub, now: datetime) -> int:
    """Executions whose lease ran out become ``unknown``: the call may have gone out."""
    with write(hub.engine) as conn:
        expired = claims.expired_executions(conn, now)
        for refund_id in expired:
            if ledger.transition(conn, refund_id, states.UNKNOWN, expect=states.EXECUTING, lease_until=None):
                audit.write(
                    conn,
                    ACTOR,
                    "lease_expired",
                    refund_id=refund_id,
                    note="worker stopped during execution; asking the gateway",
                )
    return len(expired)


def resolve_unsettled(hub: Hub, now: datetime) -> Counter[str]:
    """Ask the executor about each ``pending``/``unknown`` refund and settle what it knows."""
    counts: Counter[str] = Counter()
    lease = timedelta(seconds=hub.config.hub.lease_seconds)
    with write(hub.engine) as conn:
        refunds = ledger.unsettled(conn)
    for refund in refunds:
        with write(hub.engine) as conn:
            if not claims.claim_resolution(conn, refund.id, refund.state, lease):
                counts["resolving_elsewhere"] += 1  # another janitor is asking about it right now
                continue
        try:
            counts[resolve_one(hub, refund, now)] += 1
        finally:
            with write(hub.engine) as conn:
                claims.release_resolution(conn, refund.id)
    return counts


def resolve_one(hub: Hub, refund: Refund, now: datetime) -> str:
    """Ask the executor about one claimed refund and act on the answer; returns what happened."""
    result = lookup(hub, refund)
    if result is None:
        return no_trace(hub, refund, now)
    if result.outcome in (Outcome.UNKNOWN, Outcome.UNAVAILABLE) or result.outcome.value == refund.state:
        return "unchanged"
    return f"resolved_{settle(hub, refund.id, result, expect=refund.state, actor=ACTOR).state}"


def no_trace(hub: Hub, refund: Refund, now: datetime) -> str:
    """The executor has no trace of an ``unknown`` refund: re-send with the same key only where
    that provably cannot pay twice; otherwise leave it for a person. A ``pending`` refund the
    executor has no trace of (it answered "pending" once) is a person's to look at, never re-sent."""
    if now - (refund.updated_at or now) < timedelta(seconds=hub.config.hub.unknown_grace_seconds):
        return "waiting"
    if refund.state == states.PENDING:
        return _needs_person(hub, refund.id, "the executor reported the refund pending and now has no trace of it")
    executor = _executor(hub, refund)
    window = getattr(executor, "replay_window", None)
    # created_at precedes the first attempt, so this age is an upper bound on the key's age
    within_window = window is not None and now - (refund.created_at or now) < window
    with write(hub.engine) as conn:
        if getattr(executor, "lookup_is_complete", False) or within_window:
            if not jobs.ensure(conn, JobKind.RESEND, refund.id):
                return "resend_waiting"  # the re-send of an earlier sweep has not run yet
            audit.write(
                conn,
                ACTOR,
                "resend_same_key",
                refund_id=refund.id,
                note="the executor has no trace of the refund; re-sending with the same key",
            )
            return "resent"
    return _needs_person(hub, refund.id, "no trace at the executor and its key can no longer be replayed safely")


def _needs_person(hub: Hub, refund_id: str, note: str) -> str:
    with write(hub.engine) as conn:
        if ledger.flag_needs_person(conn, refund_id):
            audit.write(conn, ACTOR, "needs_person", refund_id=refund_id, note=note)
    return "needs_person"


def _executor(hub: Hub, refund: Refund) -> Any:
    account = gateway_account(refund.route or "")
    return hub.gateways.get(account) if account is not None else hub.connectors.get(refund.connector)


def lookup(hub: Hub, refund: Refund) -> RefundResult | None:
    """What the executor knows of the refund; None only when it answered "no trace". A lookup
    that could not be made (the store is gone, the plugin raised) is ``unknown``: ask again later,
    never "absent" — absence allows a same-key re-send."""
    request = RefundRequest.model_validate(refund.request)
    payment = request.payments[0]
    query = RefundLookup(
        hub_refund_id=refund.id,
        idempotency_key=refund.idempotency_key,
        payment_reference=payment.reference,
        amount=refund.approved_amount or refund.amount,
        currency=refund.currency,
        gateway_refund_id=refund.gateway_refund_id,
        payment_extra=dict(payment.extra),
    )
    account = gateway_account(refund.route or "")
    try:
        if account is not None and account in hub.gateways:
            return hub.gateways[account].get_refund(query)
        store = hub.stores[refund.connector].get(refund.store_id)
        if store is None:
            return RefundResult(outcome=Outcome.UNKNOWN, code="store_unavailable", message="store is disabled")
        return hub.connectors[refund.connector].get_platform_refund(store, query)
    except Exception as exc:  # noqa: BLE001 - a plugin's lookup failing must not stop the sweep
        log.exception("lookup of refund %s failed", refund.id, extra={"refund_id": refund.id})
        return RefundResult(outcome=Outcome.UNKNOWN, code="lookup_failed", message=str(exc)[:500])
