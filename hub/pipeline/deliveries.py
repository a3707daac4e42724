"""Process one stored delivery: parse it, re-read the truth for each notice, take it into the
ledger and decide. An authentic delivery the connector cannot read becomes a dead letter with
the reason (kept, visible, replayable); nothing received is lost (invariant 4)."""

from __future__ import annotations

from hub.contracts import Delivery, GatewayEvent, Headers, Notice
from hub.errors import UNPARSEABLE, ParseError
from hub.ledger import audit, privacy
from hub.ledger import deliveries as stored
from hub.ledger import outbox as jobs
from hub.ledger.outbox import JobKind
from hub.ledger.twins import GATEWAY_SOURCE
from hub.ledger.unit import read, write
from hub.pipeline.decide import decide
from hub.pipeline.disputes import checked_dispute, take_dispute_events
from hub.pipeline.gateway_events import take_gateway_events
from hub.pipeline.intake import take_event
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import DELIVERIES


def process_delivery(hub: Hub, delivery_id: str) -> str | None:
    """Returns the delivery's status afterwards (None: no such delivery)."""
    with read(hub.engine) as conn:
        row = stored.get(conn, delivery_id)
    if row is None or row.status != stored.RECEIVED:
        return row.status if row is not None else None
    if row.connector.startswith(GATEWAY_SOURCE):
        return _gateway_delivery(hub, row.connector[len(GATEWAY_SOURCE) :], delivery_id, row.body)
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
    except UNPARSEABLE as exc:  # the same body fails the same way: dead letter at once
        return dead_letter(hub, delivery_id, row.connector, _why(exc))
    for notice in notices:
        problem = take_notice(hub, row.connector, notice, delivery_id)
        if problem:
            return dead_letter(hub, delivery_id, row.connector, problem)
    return finish(hub, delivery_id, row.connector)


def _gateway_delivery(hub: Hub, account: str, delivery_id: str, body: bytes) -> str:
    source = f"{GATEWAY_SOURCE}{account}"
    if account not in hub.gateways:
        return dead_letter(hub, delivery_id, source, f"gateway account {account!r} is not configured")
    try:
        events = [_checked(event) for event in hub.gateways[account].parse_webhook(body)]
        dispute_events = [checked_dispute(event) for event in hub.gateways[account].parse_disputes(body)]
    except UNPARSEABLE as exc:
        return dead_letter(hub, delivery_id, source, _why(exc))
    take_gateway_events(hub, account, events, delivery_id)
    take_dispute_events(hub, account, dispute_events, delivery_id)
    return finish(hub, delivery_id, source)


def _checked(event: GatewayEvent) -> GatewayEvent:
    """A status event whose ids are text the ledger can match and store, and whose amount is a
    whole number that fits: a signed body may carry anything where an id belongs."""
    texts = (event.payment_reference, event.hub_refund_id, event.currency, event.event_id)
    if not isinstance(event.gateway_refund_id, str) or not all(v is None or isinstance(v, str) for v in texts):
        raise ParseError("a status event's ids are not text")
    for value in (event.gateway_refund_id, *texts):
        if value is not None:
            value.encode("utf-8")  # UnicodeEncodeError for a lone surrogate: unreadable
    amount = event.amount
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < 2**63):
        raise ParseError(f"a status event's amount is not a whole number of minor units: {amount!r}"[:200])
    return event


def _why(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ParseError) else f"unreadable body ({type(exc).__name__}: {exc})"[:500]


def take_notice(hub: Hub, connector_name: str, notice: Notice, delivery_id: str | None) -> str | None:
    """Handle one notice; returns a dead-letter reason, or None when done. Transient platform
    failures raise (``PlatformUnavailable``) so the job retries the whole delivery."""
    connector = hub.connectors[connector_name]
    directory = hub.stores[connector_name]
    if notice.kind == "ignored":
        with write(hub.engine) as conn:
            why = notice.hints.get("reason")
            audit.write(conn, "worker", "ignored", delivery_id=delivery_id, topic=notice.topic, reason=why)
        return None
    if notice.kind == "uninstalled":
        directory.disable(notice.store_id)
        with write(hub.engine) as conn:
            audit.write(conn, "worker", "store_uninstalled", delivery_id=delivery_id, store_id=notice.store_id)
        return None
    if notice.kind == "redact":
        redact(hub, connector_name, notice, delivery_id)
        return None
    if notice.kind == "data_request":
        report_customer_data(hub, connector_name, notice, delivery_id)
        return None
    store = directory.get(notice.store_id)
    if store is None:
        return f"store {notice.store_id!r} is not installed or is disabled"
    try:
        event = connector.fetch(store, notice)
    except UNPARSEABLE as exc:  # what the notice names cannot be read back (an id no API can take)
        return _why(exc)
    refund_id = take_event(hub, connector, store, event, delivery_id)
    if refund_id is not None:
        decide(hub, refund_id)
    return None


def redact(hub: Hub, connector_name: str, notice: Notice, delivery_id: str | None) -> None:
    """Compliance redaction: customer identity leaves the refunds, the raw deliveries that carry
    it, the notices sent to them and their feedback's comment; amounts and states stay.
    ``whole_store``: everything of the store (shop/redact)."""
    who = None if notice.hints.get("whole_store") else customer_named(notice)
    if who is not None and not who.named():
        return
    with write(hub.engine) as conn:
        bodies = privacy.redact_deliveries(conn, connector_name, notice.store_id, who)  # first: found via refunds
        told, said = privacy.redact_told(conn, connector_name, notice.store_id, who)
        count = privacy.redact_refunds(conn, connector_name, notice.store_id, who)
        audit.write(
            conn,
            "worker",
            "redacted",
            delivery_id=delivery_id,
            store_id=notice.store_id,
            refunds=count,
            deliveries=bodies,
            notices=told,
            feedback=said,
        )


def report_customer_data(hub: Hub, connector_name: str, notice: Notice, delivery_id: str | None) -> None:
    """A customer's data request: what the hub holds on them, saved for the merchant (the admin
    API's ``/api/data-exports``) and audited."""
    who = customer_named(notice)
    with write(hub.engine) as conn:
        content = privacy.customer_report(conn, connector_name, notice.store_id, who)
        request_ref = notice.hints.get("data_request_id")
        export_id = privacy.save_export(conn, connector_name, notice.store_id, request_ref, content)
        audit.write(
            conn,
            "worker",
            "customer_data_reported",
            delivery_id=delivery_id,
            store_id=notice.store_id,
            export_id=export_id,
            refunds=len(content["refunds"]),
        )


def customer_named(notice: Notice) -> privacy.Customer:
    hints = notice.hints
    return privacy.Customer(
        customer_id=str(hints["customer_id"]) if hints.get("customer_id") else None,
        email=str(hints["email"]) if hints.get("email") else None,
        order_ids=tuple(str(o) for o in hints.get("order_ids") or ()),
    )


def finish(hub: Hub, delivery_id: str, source: str) -> str:
    with write(hub.engine) as conn:
        stored.mark_done(conn, delivery_id)
    DELIVERIES.labels(connector=source, result="processed").inc()
    return stored.DONE


def dead_letter(hub: Hub, delivery_id: str, source: str, reason: str) -> str:
    with write(hub.engine) as conn:
        stored.mark_dead(conn, delivery_id, reason)
        audit.write(conn, "worker", "dead_letter", delivery_id=delivery_id, reason=reason[:500])
    DELIVERIES.labels(connector=source, result="dead").inc()
    return stored.DEAD


def replay(hub: Hub, delivery_id: str, who: str = "cli") -> bool:
    """Put a dead letter (or any processed delivery) back in the queue."""
    with write(hub.engine) as conn:
        moved = stored.requeue(conn, delivery_id)
        if moved:
            jobs.add(conn, JobKind.DELIVERY, delivery_id)
            audit.write(conn, who, "replayed", delivery_id=delivery_id)
    hub.dispatcher.wake()
    return moved
