"""Process one stored delivery: parse it, re-read the truth for each notice, take it into the
ledger and decide. An authentic delivery the connector cannot read becomes a dead letter with
the reason (kept, visible, replayable); nothing received is lost (invariant 4)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from hub.contracts import Delivery, Headers, Notice
from hub.db.engine import recoverable
from hub.db.tables import deliveries, refunds
from hub.errors import ParseError
from hub.ingest.writer import DEAD, DONE, RECEIVED
from hub.ledger import audit
from hub.pipeline.decide import decide
from hub.pipeline.gateway_events import take_gateway_events
from hub.pipeline.intake import take_event
from hub.policy.history import normalize_email
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import DELIVERIES

GATEWAY_SOURCE = "gateway:"


def process_delivery(hub: Hub, delivery_id: str) -> str:
    with recoverable(hub.engine) as conn:
        row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
    if row is None or row.status != RECEIVED:
        return row.status if row is not None else "missing"
    if row.connector.startswith(GATEWAY_SOURCE):
        account = row.connector[len(GATEWAY_SOURCE) :]
        if account not in hub.gateways:
            return dead_letter(hub, delivery_id, row.connector, f"gateway account {account!r} is not configured")
        try:
            events = hub.gateways[account].parse_webhook(row.body)
        except ParseError as exc:
            return dead_letter(hub, delivery_id, row.connector, str(exc))
        take_gateway_events(hub, account, events, delivery_id)
        return finish(hub, delivery_id, row.connector)
    connector = hub.connectors.get(row.connector)
    if connector is None:
        return dead_letter(hub, delivery_id, row.connector, f"connector {row.connector!r} is not enabled")
    delivery = Delivery(
        id=row.id,
        connector=row.connector,
        store_id=row.store_id,
        topic=row.topic,
        headers=Headers(row.headers),
        body=row.body,
    )
    try:
        notices = connector.parse(delivery)
    except ParseError as exc:
        return dead_letter(hub, delivery_id, row.connector, str(exc))
    for notice in notices:
        problem = take_notice(hub, row.connector, notice, delivery_id)
        if problem:
            return dead_letter(hub, delivery_id, row.connector, problem)
    return finish(hub, delivery_id, row.connector)


def take_notice(hub: Hub, connector_name: str, notice: Notice, delivery_id: str | None) -> str | None:
    """Handle one notice; returns a dead-letter reason, or None when done. Transient platform
    failures raise (``PlatformUnavailable``) so the job retries the whole delivery."""
    connector = hub.connectors[connector_name]
    directory = hub.stores[connector_name]
    if notice.kind == "ignored":
        with recoverable(hub.engine) as conn:
            audit.write(conn, "worker", "ignored", delivery_id=delivery_id, topic=notice.topic)
        return None
    if notice.kind == "uninstalled":
        directory.disable(notice.store_id)
        with recoverable(hub.engine) as conn:
            audit.write(conn, "worker", "store_uninstalled", delivery_id=delivery_id, store_id=notice.store_id)
        return None
    if notice.kind == "redact":
        redact(hub, connector_name, notice, delivery_id)
        return None
    store = directory.get(notice.store_id)
    if store is None:
        return f"store {notice.store_id!r} is not installed or is disabled"
    try:
        event = connector.fetch(store, notice)
    except ParseError as exc:
        return str(exc)
    refund_id = take_event(hub, connector, store, event, delivery_id)
    if refund_id is not None:
        decide(hub, refund_id)
    return None


def redact(hub: Hub, connector_name: str, notice: Notice, delivery_id: str | None) -> None:
    """Compliance redaction: customer identity leaves the ledger; amounts and states stay."""
    hints = notice.hints
    where = [refunds.c.connector == connector_name, refunds.c.store_id == notice.store_id]
    if not hints.get("whole_store"):
        ids = [refunds.c.customer_id == str(hints["customer_id"])] if hints.get("customer_id") else []
        if hints.get("email"):
            ids.append(refunds.c.customer_email == normalize_email(str(hints["email"])))
        if hints.get("order_ids"):
            ids.append(refunds.c.order_id.in_([str(o) for o in hints["order_ids"]]))
        if not ids:
            return
        from sqlalchemy import or_

        where.append(or_(*ids))
    with recoverable(hub.engine) as conn:
        rows = conn.execute(select(refunds.c.id, refunds.c.request).where(*where)).all()
        for row in rows:
            request = dict(row.request)
            request["customer"] = {"id": None, "email": None}
            conn.execute(
                update(refunds)
                .where(refunds.c.id == row.id)
                .values(customer_id=None, customer_email=None, request=request)
            )
        audit.write(conn, "worker", "redacted", delivery_id=delivery_id, store_id=notice.store_id, refunds=len(rows))


def finish(hub: Hub, delivery_id: str, source: str) -> str:
    with recoverable(hub.engine) as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=DONE, processed_at=datetime.now(UTC), error=None)
        )
    DELIVERIES.labels(connector=source, result="processed").inc()
    return DONE


def dead_letter(hub: Hub, delivery_id: str, source: str, reason: str) -> str:
    with recoverable(hub.engine) as conn:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(status=DEAD, error=reason[:2000], processed_at=datetime.now(UTC))
        )
        audit.write(conn, "worker", "dead_letter", delivery_id=delivery_id, reason=reason[:500])
    DELIVERIES.labels(connector=source, result="dead").inc()
    return DEAD


def replay(hub: Hub, delivery_id: str, who: str = "cli") -> bool:
    """Put a dead letter (or any processed delivery) back in the queue."""
    from hub.work import jobs

    with recoverable(hub.engine) as conn:
        moved = (
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.status != RECEIVED)
                .values(status=RECEIVED, error=None)
            ).rowcount
            == 1
        )
        if moved:
            jobs.add(conn, jobs.DELIVERY, delivery_id)
            audit.write(conn, who, "replayed", delivery_id=delivery_id)
    hub.dispatcher.wake()
    return moved
