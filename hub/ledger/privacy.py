"""Personal data where it lives: customer redaction across refunds, raw deliveries, the notices
sent to the customer and the feedback they left, and the report of what the hub holds on a
customer (a platform's data request, answered to the merchant).

Raw delivery bodies keep e-mails and addresses as the platform sent them; a redaction empties
the bodies that name the customer (or every body of a redacted store), keeping the delivery's
id, topic and dedupe key so nothing is processed twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, LargeBinary, bindparam, func, or_, select, text, update

from hub.db.tables import data_exports, deliveries, refunds
from hub.db.tables_customer import credits, feedback, notices
from hub.ledger.people import ALL_STORES, StoreScope
from hub.ledger.records import as_utc
from hub.policy.history import normalize_email

REDACTED_BODY = b"{}"


@dataclass(frozen=True)
class Customer:
    """Whom a redaction or a data request is about, as the platform names them."""

    customer_id: str | None = None
    email: str | None = None
    order_ids: tuple[str, ...] = ()

    def named(self) -> bool:
        return bool(self.customer_id or self.email or self.order_ids)


def _refunds_of(connector: str, store_id: str, who: Customer) -> Any:
    match = [refunds.c.customer_id == who.customer_id] if who.customer_id else []
    if who.email:
        match.append(refunds.c.customer_email == normalize_email(who.email))
    if who.order_ids:
        match.append(refunds.c.order_id.in_(who.order_ids))
    return (refunds.c.connector == connector, refunds.c.store_id == store_id, or_(*match))


def redact_refunds(conn: Connection, connector: str, store_id: str, who: Customer | None) -> int:
    """Customer identity leaves the refunds (``who=None``: every refund of the store); amounts,
    states and ids stay, so balances and reconciliation still add up."""
    where: list[Any] = [refunds.c.connector == connector, refunds.c.store_id == store_id]
    if who is not None:
        if not who.named():
            return 0
        where = list(_refunds_of(connector, store_id, who))
    rows = conn.execute(select(refunds.c.id, refunds.c.request).where(*where)).all()
    for row in rows:
        request = {**dict(row.request), "customer": {"id": None, "email": None}}
        conn.execute(
            update(refunds).where(refunds.c.id == row.id).values(customer_id=None, customer_email=None, request=request)
        )
    return len(rows)


def redact_told(conn: Connection, connector: str, store_id: str, who: Customer | None) -> tuple[int, int]:
    """What the customer was told and what they said leave the notices and the feedback (the
    texts sent, errors that may name their address, their comment); each notice's step, channel,
    state and times stay — the record that they were told — and the rating and reason code stay
    for the analytics. Run before ``redact_refunds`` (found through the refunds). (notices, answers)."""
    where: list[Any] = [refunds.c.connector == connector, refunds.c.store_id == store_id]
    if who is not None:
        if not who.named():
            return 0, 0
        where = list(_refunds_of(connector, store_id, who))
    theirs = select(refunds.c.id).where(*where)
    told = conn.execute(
        update(notices)
        .where(
            notices.c.refund_id.in_(theirs),
            or_(notices.c.subject.is_not(None), notices.c.body.is_not(None), notices.c.last_error.is_not(None)),
        )
        .values(subject=None, body=None, last_error=None)
    )
    said = conn.execute(update(feedback).where(feedback.c.refund_id.in_(theirs)).values(comment="", detail=None))
    return int(told.rowcount), int(said.rowcount)


def redact_deliveries(conn: Connection, connector: str, store_id: str, who: Customer | None) -> int:
    """Empty the raw bodies (and headers) that carry the customer's data — the deliveries their
    refunds came from and any of the store's deliveries naming them — or, for ``who=None``, all
    of the store's. Returns how many."""
    where: list[Any] = [deliveries.c.connector == connector, deliveries.c.store_id == store_id]
    if who is not None:
        if not who.named():
            return 0
        linked = select(refunds.c.delivery_id).where(*_refunds_of(connector, store_id, who))
        naming = [_body_contains(conn, v.encode(), i) for i, v in enumerate(_needles(who))]
        where.append(or_(deliveries.c.id.in_(linked), *naming))
    result = conn.execute(
        update(deliveries).where(*where, deliveries.c.body != REDACTED_BODY).values(body=REDACTED_BODY, headers={})
    )
    return int(result.rowcount)


def _body_contains(conn: Connection, needle: bytes, position: int) -> Any:
    """A raw body holds ``needle`` (a byte search: bodies need not be valid text)."""
    value = bindparam(f"needle_{position}", needle, type_=LargeBinary)
    if conn.dialect.name == "postgresql":
        return text(f"position(:needle_{position} IN deliveries.body) > 0").bindparams(value)
    return func.instr(deliveries.c.body, value) > 0


def _needles(who: Customer) -> list[str]:
    """Texts whose presence in a raw body means it names the customer (long enough to be unique)."""
    values = [who.email or "", who.customer_id or ""]
    return [v for v in values if len(v) >= 5]


def customer_report(conn: Connection, connector: str, store_id: str, who: Customer) -> dict[str, Any]:
    """Everything the hub holds on the customer, as the merchant receives it."""
    if not who.named():
        return {"customer": {}, "refunds": []}
    rows = conn.execute(select(refunds).where(*_refunds_of(connector, store_id, who)).order_by(refunds.c.created_at))
    held = [
        {
            "refund_id": r.id,
            "order_id": r.order_id,
            "state": r.state,
            "amount": r.amount,
            "approved_amount": r.approved_amount,
            "currency": r.currency,
            "customer_id": r.customer_id,
            "customer_email": r.customer_email,
            "request": r.request,
            "decision": r.decision,
            "created_at": _when(r.created_at),
        }
        for r in rows
    ]
    _add_customer_side(conn, held)
    return {
        "customer": {"id": who.customer_id, "email": who.email, "orders": list(who.order_ids)},
        "refunds": held,
        "raw_deliveries": "kept up to the retention period; emptied on redaction",
    }


def _when(value: datetime | None) -> str | None:
    return (as_utc(value) or value).isoformat() if value is not None else None


NOTICE_FIELDS = ("step", "channel", "state", "subject", "body", "created_at", "sent_at")
FEEDBACK_FIELDS = ("rating", "comment", "reason", "created_at")
CREDIT_FIELDS = ("kind", "amount", "currency", "state", "code")


def _fields(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The named columns of a row, times as ISO 8601 text."""
    return {n: _when(v) if isinstance(v := getattr(row, n), datetime) else v for n in names}


def _add_customer_side(conn: Connection, held: list[dict[str, Any]]) -> None:
    """Each refund's notices (what was sent, through which channel, when), the customer's
    feedback and the alternative issued to them, beside the refund in the report."""
    ids = [h["refund_id"] for h in held]
    told: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    said: dict[str, dict[str, Any]] = {}
    issued: dict[str, dict[str, Any]] = {}
    if ids:
        for n in conn.execute(select(notices).where(notices.c.refund_id.in_(ids)).order_by(notices.c.id)):
            told[n.refund_id].append(_fields(n, NOTICE_FIELDS))
        for f in conn.execute(select(feedback).where(feedback.c.refund_id.in_(ids))):
            said[f.refund_id] = _fields(f, FEEDBACK_FIELDS)
        for c in conn.execute(select(credits).where(credits.c.refund_id.in_(ids))):
            issued[c.refund_id] = _fields(c, CREDIT_FIELDS)
    for entry in held:
        entry["notices"] = told[entry["refund_id"]]
        entry["feedback"] = said.get(entry["refund_id"])
        entry["credit"] = issued.get(entry["refund_id"])


def save_export(conn: Connection, connector: str, store_id: str, request_ref: str | None, content: Any) -> str:
    export_id = f"dx_{uuid.uuid4().hex[:24]}"
    conn.execute(
        data_exports.insert().values(
            id=export_id,
            connector=connector,
            store_id=store_id,
            kind="customer_data",
            request_ref=request_ref,
            created_at=datetime.now(UTC),
            content=content,
        )
    )
    return export_id


def exports(conn: Connection, store_id: str | None, limit: int, scope: StoreScope = ALL_STORES) -> list[dict[str, Any]]:
    query = (
        select(data_exports)
        .where(scope.clause(data_exports.c.connector, data_exports.c.store_id))
        .order_by(data_exports.c.created_at.desc())
        .limit(limit)
    )
    if store_id is not None:
        query = query.where(data_exports.c.store_id == store_id)
    return [
        {
            "id": r.id,
            "connector": r.connector,
            "store_id": r.store_id,
            "kind": r.kind,
            "request_ref": r.request_ref,
            "created_at": (as_utc(r.created_at) or r.created_at).isoformat(),
            "content": r.content,
        }
        for r in conn.execute(query)
    ]
