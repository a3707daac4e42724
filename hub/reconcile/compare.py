"""Find the drift between the ledger and one outside source, per refund and per payment.

Matching is by the ids each side carries — the gateway refund id, the hub refund id the hub sends
as metadata or writes into the platform record, the record's source reference — never by amount
alone, except to link a platform record and its gateway refund that name no id of each other
(``Link``), which is how a merchant's refund in the store admin paid by the gateway looks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.contracts import ListedRefund, Outcome, PaymentState
from hub.ledger import reconcile as books
from hub.ledger import states
from hub.ledger.reconcile import Drift
from hub.ledger.records import Payment, Refund
from hub.ledger.refunds import came_from_gateway
from hub.ledger.unit import Unit
from hub.pipeline.routing import NONE, PLATFORM

SETTLING = timedelta(hours=1)  # a refund in flight younger than this is the janitor's, not drift
IN_FLIGHT = frozenset({states.EXECUTING, states.PENDING, states.UNKNOWN})


@dataclass(frozen=True)
class Link:
    """A platform record and the gateway refund of the same money, to be tied by the gateway id."""

    refund_id: str
    gateway_refund_id: str


def moved(row: Refund) -> bool:
    return row.state in states.SUCCESSES or (row.state == states.RECORDED and row.money_moved)


def amount_of(row: Refund) -> int:
    return row.approved_amount if row.approved_amount is not None else row.amount


# --- a gateway account ---------------------------------------------------------------------


@dataclass
class GatewayComparison:
    drifts: list[Drift]
    links: list[Link]
    payments: list[Payment]  # the store's payments the window touched on this account


def compare_gateway(
    conn: Unit,
    *,
    account: str,
    connector: str,
    store_id: str,
    ledger_rows: Sequence[Refund],
    listed: Sequence[ListedRefund],
    exclusive: bool,
    now: datetime,
) -> GatewayComparison:
    """The account's listed refunds against the store's ledger. ``exclusive``: only this store
    routes to the account, so a refund on a payment the ledger never saw is this store's."""
    route = f"gateway:{account}"
    source = route
    paid_on = {
        p.id: p for p in books.store_payments(conn, store_id, {r.payment_id for r in ledger_rows if r.payment_id})
    }
    on_route = {pid: p for pid, p in paid_on.items() if p.route == route}
    # executed on the account, recorded from it, or a platform's record of a refund on its payment
    mine = [r for r in ledger_rows if route in (r.route, r.connector) or (r.route is None and r.payment_id in on_route)]
    by_gateway_id = {r.gateway_refund_id: r for r in mine if r.gateway_refund_id}
    by_id = {r.id: r for r in mine}
    drifts: list[Drift] = []
    links: list[Link] = []
    matched: set[str] = set()
    touched: dict[int, Payment] = {pid: p for pid, p in on_route.items() if any(r.payment_id == pid for r in mine)}
    for item in listed:
        row = by_gateway_id.get(item.id) or (by_id.get(item.hub_refund_id) if item.hub_refund_id else None)
        row = row or books.find_known(
            conn, connector, store_id, gateway_refund_id=item.id, hub_refund_id=item.hub_refund_id
        )
        payment = books.payment_of(conn, store_id, route, item.payment_reference) if item.payment_reference else None
        if payment is not None:
            touched[payment.id] = payment
        if row is None and payment is not None and item.outcome is Outcome.SUCCEEDED:
            twin = books.untagged_record(conn, payment.id, item.amount)
            if twin is not None and twin.id not in matched:
                links.append(Link(twin.id, item.id))
                matched.add(twin.id)
                continue
        if row is None:
            if payment is not None or exclusive:
                drifts.append(_unknown_at_ledger(source, item, payment))
            continue
        matched.add(row.id)
        drifts.extend(_disagreements(source, row, item, now))
    for row in mine:
        if row.id not in matched and (moved(row) or row.state == states.PENDING):
            drifts.append(_missing_at_gateway(source, row))
    return GatewayComparison(drifts, links, list(touched.values()))


def _unknown_at_ledger(source: str, item: ListedRefund, payment: Payment | None) -> Drift:
    if payment is None:
        action = (
            "the ledger has no such payment: run `refund-hub backfill` to import the store's history, "
            "or check the refund in the gateway's dashboard"
        )
    elif item.outcome is Outcome.SUCCEEDED:
        action = "import it as a recorded refund (money moved outside the hub): done by the hub"
    else:
        action = f"nothing moved yet ({item.outcome.value}); the next reconciliation imports it once it succeeds"
    return Drift(
        books.UNKNOWN_AT_LEDGER, source, action, payment_reference=item.payment_reference, outside_id=item.id,
        currency=item.currency, outside_amount=item.amount, outside_state=item.raw_status or item.outcome.value,
        detail={"created_at": item.created_at.isoformat(), "payment_known": payment is not None,
                "outcome": item.outcome.value},
    )  # fmt: skip


def _disagreements(source: str, row: Refund, item: ListedRefund, now: datetime) -> list[Drift]:
    found: list[Drift] = []
    common = {
        "refund_id": row.id, "payment_reference": item.payment_reference, "outside_id": item.id,
        "currency": row.currency, "ledger_amount": amount_of(row), "outside_amount": item.amount,
        "ledger_state": row.state, "outside_state": item.raw_status or item.outcome.value,
    }  # fmt: skip
    if item.outcome is not Outcome.FAILED and item.amount != amount_of(row):
        action = (
            "the gateway moved a different amount than the ledger holds: check the refund in the gateway's "
            "dashboard and correct the store's records; the ledger's balance follows the gateway's payment"
        )
        found.append(Drift(books.AMOUNT_MISMATCH, source, action, **common))  # type: ignore[arg-type]
    advice = _state_action(row, item.outcome, now)
    if advice is not None:
        found.append(Drift(books.STATE_MISMATCH, source, advice, **common))  # type: ignore[arg-type]
    return found


def _state_action(row: Refund, outcome: Outcome, now: datetime) -> str | None:
    if moved(row) and outcome is Outcome.FAILED:
        return (
            "the gateway says the refund failed after the ledger counted it: the money came back to the "
            "merchant; tell the customer and correct the store (the gateway's failure webhook may be lost)"
        )
    if row.state == states.FAILED and outcome is Outcome.SUCCEEDED:
        return (
            "the gateway paid a refund the ledger holds as failed: the customer has the money; do not "
            "refund it again — record it on the store by hand and note it on the refund"
        )
    if row.state in IN_FLIGHT and outcome is not Outcome.PENDING and now - row.updated_at > SETTLING:
        return (
            f"the gateway's refund is {outcome.value} while the ledger still waits ({row.state}): the janitor's "
            "resolve settles it; if it stays, the refund needs a person"
        )
    return None


def _missing_at_gateway(source: str, row: Refund) -> Drift:
    return Drift(
        books.MISSING_AT_GATEWAY, source,
        "the gateway lists no such refund: look it up in the gateway's dashboard by the hub refund id; if "
        "it is not there the customer was not paid — settle the refund by hand (never re-send a new one "
        "before the lookup)",
        refund_id=row.id, outside_id=row.gateway_refund_id, currency=row.currency, ledger_amount=amount_of(row),
        ledger_state=row.state,
    )  # fmt: skip


def compare_payments(
    source: str, payments: Sequence[Payment], money_in_ledger: Mapping[int, int],
    at_gateway: Callable[[Payment], PaymentState | None],
) -> list[Drift]:  # fmt: skip
    """Per payment: what the gateway says was refunded on it against what the ledger counts."""
    found = []
    for payment in payments:
        state = at_gateway(payment)
        if state is None:
            continue
        counted = money_in_ledger[payment.id]
        if state.refunded != counted:
            found.append(
                Drift(
                    books.PAYMENT_TOTAL_MISMATCH,
                    source,
                    "the payment's refunded total differs between the gateway and the ledger: the items above "
                    "name the refunds; if none does, a refund older than the window is missing — run "
                    "`refund-hub backfill`",
                    payment_reference=payment.reference,
                    currency=payment.currency,
                    ledger_amount=counted,
                    outside_amount=state.refunded,
                    detail={"captured": state.captured},
                )  # fmt: skip
            )
    return found


# --- the platform --------------------------------------------------------------------------


def expects_record(row: Refund, connector: str) -> bool:
    """A refund the store should show exactly one record of: one the hub paid on its own route
    and wrote back, one paid by the platform, or one the platform recorded itself — not one a
    gateway reported that nobody made through the store (a dashboard click)."""
    if row.parent_id is not None or row.connector != connector or came_from_gateway(row):
        return False
    if row.state == states.RECORDED:
        return True
    return row.state in states.SUCCESSES and row.route != NONE


def compare_platform(
    conn: Unit, *, connector: str, store_id: str, ledger_rows: Sequence[Refund], listed: Sequence[ListedRefund],
    now: datetime,
) -> list[Drift]:  # fmt: skip
    """The store's records against its ledger. A refund that succeeded within ``SETTLING`` is left
    alone: its write-back job is the pipeline's, not drift yet."""
    source = f"platform:{connector}"
    index: dict[str, list[ListedRefund]] = defaultdict(list)
    for item in listed:
        for key in _keys_of_record(item):
            index[key].append(item)
    drifts: list[Drift] = []
    claimed: set[str] = set()
    for row in ledger_rows:
        if not expects_record(row, connector):
            continue
        if row.state == states.SUCCEEDED and now - row.updated_at < SETTLING:
            continue
        records = {item.id: item for key in _keys_of_refund(row) for item in index.get(key, ())}
        claimed.update(records)
        if not records:
            drifts.append(_record_missing(source, row))
        elif len(records) > 1:
            drifts.append(_record_doubled(source, row, list(records.values())))
    for item in listed:
        if item.id in claimed:
            continue
        known = books.find_known(
            conn, connector, store_id, hub_refund_id=item.hub_refund_id, source_ref=item.source_ref,
            gateway_refund_id=item.gateway_refund_id,
        )  # fmt: skip
        if known is None:
            drifts.append(_unknown_record(source, item))
    return drifts


def _keys_of_record(item: ListedRefund) -> list[str]:
    keys = [f"id:{item.id}"]
    if item.hub_refund_id:
        keys.append(f"hub:{item.hub_refund_id}")
    if item.source_ref:
        keys.append(f"src:{item.source_ref}")
    if item.gateway_refund_id:
        keys.append(f"gw:{item.gateway_refund_id}")
    return keys


def _keys_of_refund(row: Refund) -> list[str]:
    keys = [f"hub:{row.id}"]
    if row.state == states.RECORDED:
        keys.append(f"src:{row.source_ref}")
    if row.gateway_refund_id:
        keys.append(f"gw:{row.gateway_refund_id}")
        if row.route == PLATFORM:  # the platform's own refund: its record is what the hub holds as the id
            keys.append(f"id:{row.gateway_refund_id}")
    return keys


def _record_missing(source: str, row: Refund) -> Drift:
    if row.state == states.SUCCEEDED:
        action = "write the refund back to the store (the existing write-back job, once): done by the hub"
    else:
        action = (
            "the store shows no record of a refund the hub paid and wrote back: record it on the store by "
            "hand (without moving money) so the order's refunded total is right"
        )
    return Drift(
        books.PLATFORM_RECORD_MISSING, source, action, refund_id=row.id, outside_id=row.writeback_ref,
        currency=row.currency, ledger_amount=amount_of(row), ledger_state=row.state,
    )  # fmt: skip


def _record_doubled(source: str, row: Refund, records: list[ListedRefund]) -> Drift:
    ids = sorted(item.id for item in records)
    return Drift(
        books.PLATFORM_RECORD_DOUBLED, source,
        "the store shows this refund more than once: delete the extra record(s) on the store (no money moved "
        "for them) so its refunded total is right",
        refund_id=row.id, outside_id=",".join(ids)[:255], currency=row.currency, ledger_amount=amount_of(row),
        outside_amount=sum(item.amount for item in records), ledger_state=row.state, detail={"records": ids},
    )  # fmt: skip


def _unknown_record(source: str, item: ListedRefund) -> Drift:
    return Drift(
        books.UNKNOWN_PLATFORM_RECORD, source,
        "the store has a refund record the ledger does not know (a webhook lost, or made before the hub): "
        "`refund-hub backfill` imports it as recorded",
        outside_id=item.id, payment_reference=item.payment_reference, currency=item.currency,
        outside_amount=item.amount, outside_state=item.raw_status or item.outcome.value,
        detail={"order_id": item.order_id, "source_ref": item.source_ref, "created_at": item.created_at.isoformat()},
    )  # fmt: skip
