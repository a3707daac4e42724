"""Tell the customer at every step of their refund, through the platform and the hub's own e-mail.

``announce`` runs inside the transaction that changes the refund: it owes the customer one notice
per channel for the step (``hub.ledger.notices``, unique per refund, step and channel) and queues
a ``notice`` job for each. ``send_notice`` is that job: it renders the step's text for the store
and locale (``notice_text``), hands it to the platform (``Connector.notify_decision``: an order
note, a comment, a declined return) or to the SMTP server, and records what went out. A failure
raises so the job retries with backoff; after ``MAX_ATTEMPTS`` the notice is ``failed``. The audit
says exactly what was sent, through which channel, and every failure: ``customer_notified`` only
when something went out, ``customer_not_notified`` when a channel has no way to the customer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from hub.contracts import DecisionNotice, StoreContext
from hub.errors import PlatformError
from hub.ledger import audit, credits, notices, states, views
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobRun
from hub.ledger.records import AuditEntry, Refund
from hub.ledger.unit import Unit, read, write
from hub.pipeline import links, mail
from hub.pipeline.notice_text import Moment, context, render
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
CHANNELS = ("platform", "email")
MAX_ATTEMPTS = 8
ACTION_OF_STEP = {"denied": "deny", "offered": "offer_alternative"}  # what connectors already know
CREDIT_WORDS = {"store_credit": "Store credit issued", "gift_card": "Gift card issued", "coupon": "Coupon issued"}
STEP_OF_STATE = {
    states.REVIEW: "in_review",
    states.APPROVED: "approved",
    states.DENIED: "denied",
    states.OFFERED: "offered",
}
SIGNED_LINK = re.compile(r"(/customer/(?:status|feedback|order)/)[A-Za-z0-9._-]+")


class NoticeFailed(PlatformError):
    """A notice that did not go out this time; its job retries it."""


def announce(conn: Unit, refund_id: str, step: str) -> None:
    """The customer is owed ``step`` on every channel: committed with the change it tells of."""
    notices.schedule(conn, refund_id, step, CHANNELS)


def announce_state(conn: Unit, refund_id: str, state: str) -> None:
    """``announce`` for a decided state (review, approved, denied, offered); other states tell nothing."""
    step = STEP_OF_STATE.get(state)
    if step is not None:
        announce(conn, refund_id, step)


def tell_customer(hub: Hub, refund_id: str) -> None:
    """The older ``notify`` job (queued before notices existed): owe the decided step's notices."""
    with write(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
        if row is not None:
            announce_state(conn, refund_id, row.state)
    hub.dispatcher.wake()


def timeline(trail: list[AuditEntry]) -> list[Moment]:
    """The refund's story in the customer's words, from its audit trail (oldest first)."""
    moments: list[Moment] = []
    for entry in trail:
        label = _label(entry)
        if label and (not moments or moments[-1].label != label):
            moments.append(Moment(entry.at, label))
    return moments


def _label(entry: AuditEntry) -> str | None:
    detail, action = entry.detail or {}, entry.action
    if action == "requested":
        return "Request received"
    if action in ("decided", "reviewed"):
        after = " after review" if action == "reviewed" else ""
        return {
            states.REVIEW: "Passed to a person for review",
            states.APPROVED: f"Approved{after}",
            states.DENIED: f"Not approved{after}",
            states.OFFERED: "Alternative offered",
        }.get(str(detail.get("state")))
    if action == "executor_result" and detail.get("outcome") == "succeeded" and detail.get("applied"):
        return "Refund sent"
    return {
        "alternative_accepted": "Alternative accepted",
        "credit_issued": CREDIT_WORDS.get(str(detail.get("kind")), "Coupon issued"),
        "feedback_received": "Feedback received, thank you",
    }.get(action)


def send_notice(hub: Hub, subject: str, job: JobRun | None = None) -> None:
    """The ``notice`` job: send one owed notice, once (finishing ``job`` in the same transaction)."""
    with read(hub.engine) as conn:
        notice = notices.get(conn, int(subject))
        row = ledger.get(conn, notice.refund_id) if notice is not None else None
    if notice is None or row is None or notice.state != notices.PENDING:
        return
    directory = hub.stores.get(row.connector)
    store = directory.get(row.store_id) if directory is not None else None
    why_not = _why_not(hub, store, row, notice.channel)
    if why_not:  # told before the trail is read: most hubs send no e-mail, and it costs every refund
        _skip(hub, notice, why_not, job)
        return
    assert store is not None
    with read(hub.engine) as conn:
        trail = views.trail(conn, notice.refund_id)
        credit = credits.of_refund(conn, notice.refund_id)
    page_links = {"status": links.url(hub, "status", row.connector, row.store_id, row.id)}
    if notice.step in ("completed", "credited"):
        page_links["feedback"] = links.url(hub, "feedback", row.connector, row.store_id, row.id)
    values = context(hub, store, row, notice.step, timeline=timeline(trail), links=page_links, credit=credit)
    try:
        rendered = render(hub, store, notice.step, notice.channel, values)  # a broken template is a failure too
        if notice.channel == "platform":
            reference = _platform(hub, store, row, notice.step, rendered.text)
            if reference is None:
                _skip(hub, notice, f"{row.connector} has no channel to the customer for this step", job)
                return
        else:
            reference = mail.send(
                hub.config.email,
                to=_address(row) or "",
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                message_id=f"<notice-{notice.id}.{row.id}@refund-hub>",
                reply_to=store.settings.get("support_email"),
            )
    except Exception as exc:  # noqa: BLE001 - any refusal is recorded, then retried or given up
        _failed(hub, notice, exc)
        return
    with write(hub.engine) as conn:
        if notices.sent(conn, notice.id, subject=rendered.subject, body=rendered.text, reference=reference):
            audit.write(
                conn,
                "worker",
                "customer_notified",
                refund_id=row.id,
                channel=notice.channel,
                step=notice.step,
                notice_id=notice.id,
                reference=reference,
                subject=rendered.subject,
                body=SIGNED_LINK.sub(r"\1[signed link]", rendered.text),
                body_sha256=hashlib.sha256(rendered.text.encode()).hexdigest(),
            )
        if job is not None:
            job.finish(conn)


def _why_not(hub: Hub, store: StoreContext | None, row: Refund, channel: str) -> str | None:
    """Why this channel cannot reach the customer at all (nothing is sent, nothing retried)."""
    if store is None:
        return "the store is disabled or unknown"
    wanted = store.settings.get("notice_channels")
    if wanted is not None and channel not in wanted:
        return f"the store does not send notices through {channel}"
    if channel == "email":
        if not mail.configured(hub.config.email):
            return "the hub's e-mail is not configured ([email] host)"
        if not _address(row):
            return "the refund has no customer e-mail address"
    return None


def _address(row: Refund) -> str | None:
    customer: Any = (row.request or {}).get("customer") or {}
    email = customer.get("email") if isinstance(customer, dict) else None
    return str(email) if email and "@" in str(email) else None


def _platform(hub: Hub, store: StoreContext, row: Refund, step: str, text: str) -> str | None:
    """The platform's own channel; None when the connector has none for this step."""
    notice = DecisionNotice(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        decision=ACTION_OF_STEP.get(step, step),
        explanation=text.strip(),
        step=step,
        amount=row.approved_amount or row.amount,
        currency=row.currency,
    )
    result = hub.connectors[row.connector].notify_decision(store, notice)
    if result is None:
        return None
    return str(result.reference or f"{row.connector}:{row.order_id}")


def _skip(hub: Hub, notice: notices.Notice, why: str, job: JobRun | None) -> None:
    with write(hub.engine) as conn:
        if job is not None:
            job.finish(conn)
        notices.skipped(conn, notice.id, why)
        audit.write(
            conn,
            "worker",
            "customer_not_notified",
            refund_id=notice.refund_id,
            channel=notice.channel,
            step=notice.step,
            notice_id=notice.id,
            reason=why,
        )


def _failed(hub: Hub, notice: notices.Notice, exc: Exception) -> None:
    final = notice.attempts + 1 >= MAX_ATTEMPTS
    error = f"{type(exc).__name__}: {exc}"[:1000]
    with write(hub.engine) as conn:
        notices.failed(conn, notice.id, error, final=final)
        audit.write(
            conn,
            "worker",
            "customer_notice_failed",
            refund_id=notice.refund_id,
            channel=notice.channel,
            step=notice.step,
            notice_id=notice.id,
            attempt=notice.attempts + 1,
            final=final,
            error=error,
        )
    if not final:
        raise NoticeFailed(f"notice {notice.id} ({notice.channel}, {notice.step}) not sent: {error}") from exc
    log.warning("notice %s given up after %s attempts: %s", notice.id, notice.attempts + 1, error)
