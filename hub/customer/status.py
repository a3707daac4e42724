"""A refund as its customer sees it: where it stands in plain words, the timeline from the audit
trail, what was issued instead, and whether their feedback is wanted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.ledger import credits, feedback, states, views
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.ledger.unit import read
from hub.pipeline import links
from hub.pipeline.notice_text import METHOD_WORDS, Moment, arrival, method_of, money, setting, with_bonus
from hub.pipeline.notify import timeline
from hub.runtime.bootstrap import Hub

WORDS = {  # state -> (what the customer reads, badge tone, nothing more will happen)
    states.REQUESTED: ("Received, being checked", "info", False),
    states.REVIEW: ("A person is reviewing it", "attention", False),
    states.OFFERED: ("An alternative is on offer", "attention", False),
    states.APPROVED: ("Approved, being sent", "info", False),
    states.EXECUTING: ("Approved, being sent", "info", False),
    states.PENDING: ("Approved, being sent", "info", False),
    states.UNKNOWN: ("Approved, being sent", "info", False),
    states.SUCCEEDED: ("Refunded", "success", True),
    states.WRITTEN_BACK: ("Refunded", "success", True),
    states.DENIED: ("Not approved", "critical", True),
    states.FAILED: ("We hit a problem; the shop is on it", "critical", False),
}


class NoSuchStatus(Exception):
    """An invalid, expired or foreign link: one answer for all."""


@dataclass(frozen=True)
class Status:
    refund: Refund
    words: str
    tone: str
    final: bool
    amount: str
    explanation: str
    moments: list[Moment]
    offer: str | None = None
    credit: credits.Credit | None = None
    answered: feedback.Feedback | None = None
    feedback_token: str | None = None
    next_note: str = ""  # what happens next, in plain words
    extra: dict[str, Any] = field(default_factory=dict)


def refund_of_link(hub: Hub, purpose: str, token: str) -> Refund:
    opened = links.open_link(hub, purpose, token)
    if opened is None:
        raise NoSuchStatus(token)
    connector, store_id, refund_id = opened
    with read(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
    if row is None or (row.connector, row.store_id) != (connector, store_id):
        raise NoSuchStatus(token)
    return row


def status_of(hub: Hub, token: str) -> Status:
    row = refund_of_link(hub, "status", token)
    with read(hub.engine) as conn:
        trail = views.trail(conn, row.id)
        credit = credits.of_refund(conn, row.id)
        answered = feedback.of_refund(conn, row.id)
    words, tone, final = WORDS.get(row.state, (row.state, "neutral", False))
    decision = (row.decision or {}).get("decision") or {}
    reviewed = (row.decision or {}).get("reviewed") or {}
    explanation = reviewed.get("reason") if reviewed.get("verdict") == "deny" else decision.get("explanation")
    offer = None
    if row.state == states.OFFERED or credit is not None:
        alternative = METHOD_WORDS.get(str(decision.get("alternative") or "store_credit"), "store credit")
        directory = hub.stores.get(row.connector)
        worth, _ = with_bonus(directory.get(row.store_id) if directory else None, int(decision.get("amount") or 0))
        offer = f"{money(credit.amount if credit else worth, row.currency)} as {alternative}"
    if credit is not None:  # the alternative was taken: its issuing is the news
        issued = credit.state == credits.ISSUED
        words, tone, final = ("Issued" if issued else "Being issued"), ("success" if issued else "info"), issued
    done = final and row.state != states.DENIED
    next_note = _next(hub, row, credit)
    return Status(
        refund=row,
        words=words,
        tone=tone,
        final=final,
        amount=money(row.approved_amount or row.amount, row.currency),
        explanation=str(explanation or ""),
        moments=timeline(trail),
        offer=offer,
        credit=credit,
        answered=answered,
        feedback_token=links.sign(hub, "feedback", row.connector, row.store_id, row.id) if done else None,
        next_note=next_note,
    )


def _next(hub: Hub, row: Refund, credit: credits.Credit | None) -> str:
    directory = hub.stores.get(row.connector)
    store = directory.get(row.store_id) if directory is not None else None
    method = method_of(hub, row)
    words = METHOD_WORDS.get(method, "your original payment method")
    if credit is not None:
        return ""
    if row.state in (states.SUCCEEDED, states.WRITTEN_BACK):
        return f"We sent it to {words}. It usually takes {arrival(hub, store, method)} to show up."
    if row.state in (states.APPROVED, states.EXECUTING, states.PENDING, states.UNKNOWN):
        return f"It goes back to {words}; once sent, it usually takes {arrival(hub, store, method)} to arrive."
    if row.state == states.REVIEW:
        return f"You will hear from us within {setting(hub, store, 'review_response')}."
    if row.state == states.DENIED:
        return "If you think this is wrong, reply to our e-mail with your order number; a person will look again."
    return ""
