"""From a fetched, normalized event to a ledger entry: echoes recognised, recorded refunds
kept for balances and analytics, requests opened once per (store, source reference)."""

from __future__ import annotations

from hub.contracts import Connector, StoreContext
from hub.ledger import audit, payments, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.ledger.twins import link_platform_record
from hub.ledger.unit import Unit, write
from hub.models import Event, Ignored, RefundRecorded, RefundRequest, RefundRequested
from hub.pipeline.notify import announce
from hub.pipeline.routing import PLATFORM, NoRoute, route_for
from hub.runtime.bootstrap import Hub
from hub.runtime.metrics import DECISIONS
from hub.usage import with_usage


def find_echo(conn: Unit, request: RefundRequest, gateway_refund_id: str | None) -> Refund | None:
    """A platform record of the hub's own action: by the hub id it carries, or the gateway refund
    id — within the same store and connector only (a record naming another store's refund is no echo)."""
    if request.hub_refund_id:
        row = ledger.get(conn, request.hub_refund_id)
        if row is not None and (row.store_id, row.connector) == (request.store_id, request.connector):
            return row
    if gateway_refund_id:
        return ledger.find_by_gateway_refund(conn, gateway_refund_id, store_id=request.store_id)
    return None


def attach_payment(conn: Unit, connector: Connector, store: StoreContext, request: RefundRequest) -> int | None:
    if not request.payments:
        return None
    payment = request.payments[0]
    try:
        route = route_for(store, connector, payment)
    except NoRoute:
        route = f"label:{payment.platform_label}"
    return payments.upsert(conn, store.id, route, payment)


def take_event(
    hub: Hub, connector: Connector, store: StoreContext, event: Event, delivery_id: str | None
) -> str | None:
    """Put one event in the ledger; returns the id of a refund that now needs a decision."""
    if isinstance(event, Ignored):
        with write(hub.engine) as conn:
            audit.write(conn, "worker", "ignored", delivery_id=delivery_id, reason=event.reason, topic=event.topic)
        return None
    request = event.request.model_copy(update={"delivery_id": delivery_id}) if delivery_id else event.request
    if isinstance(event, RefundRequested):  # licence activations from the store's usage providers
        request = with_usage(store, request)
    gateway_refund_id = event.gateway_refund_id if isinstance(event, RefundRecorded) else None
    with write(hub.engine) as conn:
        echo = find_echo(conn, request, gateway_refund_id)
        if echo is not None:
            audit.write(
                conn,
                "worker",
                "echo_matched",
                refund_id=echo.id,
                delivery_id=delivery_id,
                source_ref=request.source_ref,
                state=echo.state,
            )
            if echo.state == states.SUCCEEDED and echo.route == PLATFORM:
                ledger.transition(
                    conn, echo.id, states.WRITTEN_BACK, expect=states.SUCCEEDED, writeback_ref=request.source_ref
                )
            return None
        if isinstance(event, RefundRecorded):
            return _take_recorded(conn, connector, store, event, request, delivery_id)
        assert isinstance(event, RefundRequested)
        refund_id, created = ledger.open_refund(conn, request, kind="requested", state=states.REQUESTED)
        audit.write(
            conn,
            "worker",
            "requested" if created else "duplicate_request",
            refund_id=refund_id,
            delivery_id=delivery_id,
            amount=request.amount,
            currency=request.currency,
        )
        if created:
            announce(conn, refund_id, "received")  # the customer hears their request arrived
        # a retried delivery finds its refund still undecided (e.g. an earlier refund was in doubt)
        current = ledger.get(conn, refund_id)
        undecided = created or (current is not None and current.state == states.REQUESTED)
        return refund_id if undecided else None


def _take_recorded(
    conn: Unit,
    connector: Connector,
    store: StoreContext,
    event: RefundRecorded,
    request: RefundRequest,
    delivery_id: str | None,
) -> str | None:
    execute = not event.money_moved and bool(store.settings.get("execute_manual_refunds"))
    refund_id, created = ledger.open_refund(
        conn,
        request,
        kind="recorded",
        state=states.REQUESTED if execute else states.RECORDED,
        money_moved=event.money_moved,
        gateway_refund_id=event.gateway_refund_id,
    )
    if created and not execute:
        payment_id = attach_payment(conn, connector, store, request)
        if payment_id is not None:
            ledger.attach_payment(conn, refund_id, payment_id)
            if event.money_moved and not event.gateway_refund_id:
                link_platform_record(conn, refund_id, payment_id, request.amount)
        DECISIONS.labels(action="recorded").inc()
    audit.write(
        conn,
        "worker",
        "recorded" if created else "duplicate_record",
        refund_id=refund_id,
        delivery_id=delivery_id,
        money_moved=event.money_moved,
        will_execute=execute,
    )
    return refund_id if created and execute else None
