"""``backfill``: the refunds a store made before the hub (or while it was not listening), imported
from its platform and its gateways as ``recorded`` — money moved, never executed — so analytics
and refundable balances start complete.

The platform goes first: each record is re-read through the connector (``fetch``, as a webhook
would be) and taken in by the intake, which knows echoes of the hub's own refunds and keeps one
row per (store, source reference). Then each gateway: a refund the ledger knows by its id (the
record named the gateway transaction) is skipped; one a record on the same payment and amount
names no gateway id for is linked to it; only the rest is imported on its own. Nothing counts
twice, and a second run finds everything known: the ledger stays as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from hub.contracts import ListedRefund, Notice, Outcome, StoreContext
from hub.errors import HubError
from hub.ledger import reconcile as books
from hub.ledger.unit import read, write
from hub.models import RefundRecorded
from hub.pipeline.intake import take_event
from hub.reconcile import sources
from hub.reconcile.run import find_store
from hub.runtime.bootstrap import Hub

ACTOR = "backfill"


def backfill(
    hub: Hub, store_id: str, since: datetime, *, connector: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Counter[str]:  # fmt: skip
    name, store = find_store(hub, store_id, connector)
    # a past record is history: never executed, whatever the store says of manual refunds today
    store = replace(store, settings={**store.settings, "execute_manual_refunds": False})
    with write(hub.engine) as conn:
        run_id = books.start_run(conn, "backfill", name, store_id, since)
    counts: Counter[str] = Counter()
    errors: list[str] = []
    records = sources.listed(sources.platform_listing(hub.connectors[name], store, since), sleep=sleep)
    if records is None:
        errors.append(f"platform:{name} cannot list refunds")
    for record in records or ():
        try:
            counts[_take_record(hub, name, store, record)] += 1
        except HubError as exc:  # one record the platform will not give back now: the others go on
            counts["platform_failed"] += 1
            errors.append(f"platform:{name} record {record.id}: {exc}")
    for account in sources.gateway_accounts(hub, hub.connectors[name], store):
        listed = sources.listed(sources.gateway_listing(hub.gateways[account], since), sleep=sleep)
        if listed is None:
            errors.append(f"gateway:{account} cannot list refunds")
        for refund in listed or ():
            counts[_take_gateway_refund(hub, name, store_id, account, refund)] += 1
    with write(hub.engine) as conn:
        books.finish_run(conn, run_id, dict(counts), "; ".join(errors) or None)
    return counts


def _take_record(hub: Hub, connector: str, store: StoreContext, record: ListedRefund) -> str:
    with read(hub.engine) as conn:
        known = books.find_known(
            conn, connector, store.id, hub_refund_id=record.hub_refund_id, source_ref=record.source_ref,
            gateway_refund_id=record.gateway_refund_id,
        )  # fmt: skip
    if known is not None:
        return "platform_known"
    if not record.order_id or not record.source_ref:
        return "platform_unreadable"
    hints = record.hints or {"refund_id": record.id}  # the record itself, not the order's newest refund
    notice = Notice(
        "recorded", store.id, "backfill", order_id=record.order_id, source_ref=record.source_ref, hints=hints
    )
    event = hub.connectors[connector].fetch(store, notice)
    if not isinstance(event, RefundRecorded):
        return "platform_skipped"  # only records: backfill never opens a request the hub would decide
    take_event(hub, hub.connectors[connector], store, event, None)
    with write(hub.engine) as conn:
        taken = books.find_known(conn, connector, store.id, source_ref=event.request.source_ref)
        if taken is None:
            return "platform_known"  # the intake matched it to the hub's own refund (an echo)
        books.backdate(conn, taken.id, record.created_at)
    return "platform_imported"


def _take_gateway_refund(hub: Hub, connector: str, store_id: str, account: str, refund: ListedRefund) -> str:
    route = f"gateway:{account}"
    if refund.outcome is not Outcome.SUCCEEDED:
        return "gateway_not_succeeded"
    with write(hub.engine) as conn:
        known = books.find_known(
            conn, connector, store_id, gateway_refund_id=refund.id, hub_refund_id=refund.hub_refund_id
        )
        if known is not None:
            return "gateway_known"
        payment = (
            books.payment_of(conn, store_id, route, refund.payment_reference) if refund.payment_reference else None
        )
        if payment is None:
            return "gateway_other_payment"  # not a payment of this store's orders (or of none the platform listed)
        twin = books.untagged_record(conn, payment.id, refund.amount)
        if twin is not None:
            books.link_gateway_refund(conn, twin.id, refund.id, ACTOR)
            return "gateway_linked"
        books.import_outside_refund(
            conn, payment, connector=connector, account=account, gateway_refund_id=refund.id, amount=refund.amount,
            currency=refund.currency, created_at=refund.created_at, actor=ACTOR,
        )  # fmt: skip
    return "gateway_imported"
