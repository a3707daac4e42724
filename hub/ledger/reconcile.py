"""The ledger's side of reconciliation and backfill: the store's refunds and payments to compare
with what the gateways and the platform list, the report of each run (its drift items), repairs
made at most once, and refunds imported from outside as ``recorded`` (money moved, never executed).

Drift kinds (each item carries a suggested action; ``hub.reconcile.compare`` finds them):
``unknown_at_ledger`` a gateway refund the ledger does not know; ``missing_at_gateway`` a ledger
refund the gateway has no record of; ``amount_mismatch`` / ``state_mismatch`` the two disagree;
``payment_total_mismatch`` a payment's refunded total differs; ``platform_record_missing`` /
``platform_record_doubled`` the store shows a refund the hub moved no times or twice;
``unknown_platform_record`` a store record the ledger does not know.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from hub.db.tables import payments, refunds
from hub.db.tables_reconcile import reconcile_items, reconcile_repairs, reconcile_runs
from hub.db.upsert import insert_ignore
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.ledger.people import StoreScope
from hub.ledger.records import Payment, Refund, as_utc, from_row

UNKNOWN_AT_LEDGER = "unknown_at_ledger"
MISSING_AT_GATEWAY = "missing_at_gateway"
AMOUNT_MISMATCH = "amount_mismatch"
STATE_MISMATCH = "state_mismatch"
PAYMENT_TOTAL_MISMATCH = "payment_total_mismatch"
PLATFORM_RECORD_MISSING = "platform_record_missing"
PLATFORM_RECORD_DOUBLED = "platform_record_doubled"
UNKNOWN_PLATFORM_RECORD = "unknown_platform_record"
KINDS = (UNKNOWN_AT_LEDGER, MISSING_AT_GATEWAY, AMOUNT_MISMATCH, STATE_MISMATCH, PAYMENT_TOTAL_MISMATCH,
         PLATFORM_RECORD_MISSING, PLATFORM_RECORD_DOUBLED, UNKNOWN_PLATFORM_RECORD)  # fmt: skip

IMPORTED = "imported"  # an outside refund recorded in the ledger
WRITE_BACK_QUEUED = "write_back_queued"  # the missing platform record is being written
ALREADY_REPAIRED = "already_repaired"  # an earlier run repaired it; it is still drifting: a person looks
GATEWAY_SOURCE = "gateway:"
IMPORT = "import"  # the repair actions (reconcile_repairs.action)
WRITE_BACK = "write_back"


@dataclass(frozen=True)
class Drift:
    """One disagreement between the ledger and a gateway or the platform, and what to do about it."""

    kind: str
    source: str  # gateway:<account> | platform:<connector>
    action: str
    refund_id: str | None = None
    payment_reference: str | None = None
    outside_id: str | None = None
    currency: str | None = None
    ledger_amount: int | None = None
    outside_amount: int | None = None
    ledger_state: str | None = None
    outside_state: str | None = None
    resolution: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    id: str
    kind: str
    connector: str
    store_id: str
    since: datetime
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None
    started_by: str | None = None  # user:<email> of the person who ran it from the console
    started_by_id: str | None = None  # and their user id; both None for the daily duty and the CLI

    @property
    def starter(self) -> str | None:
        """The address of the person who started the run, or None when the hub did."""
        return self.started_by.removeprefix("user:") if self.started_by else None


def _now() -> datetime:
    return datetime.now(UTC)


# --- what the ledger holds ---------------------------------------------------------------------


def store_refunds(conn: Connection, connector: str, store_id: str, since: datetime) -> list[Refund]:
    """The store's refunds created at or after ``since``: the platform's, and the outside refunds
    recorded against its payments (the store's connector since migration 0017; ``gateway:<account>``
    as connector where no store could be told)."""
    r = refunds.c
    ours = or_(r.connector == connector, r.connector.like(f"{GATEWAY_SOURCE}%"))
    rows = conn.execute(
        select(refunds).where(r.store_id == store_id, ours, r.created_at >= since).order_by(r.created_at, r.id)
    )
    return [from_row(Refund, row) for row in rows]


def find_known(
    conn: Connection, connector: str, store_id: str, *, gateway_refund_id: str | None = None,
    hub_refund_id: str | None = None, source_ref: str | None = None,
) -> Refund | None:  # fmt: skip
    """The store's refund a listed record names — by the hub id it carries, its source reference,
    or the gateway refund id — whenever it was created (a refund asked for before the window may
    have been paid in it)."""
    r = refunds.c
    if hub_refund_id:
        found = ledger.get(conn, hub_refund_id)
        if found is not None and found.store_id == store_id:
            return found
    if source_ref:
        row = conn.execute(
            select(refunds).where(r.store_id == store_id, r.connector == connector, r.source_ref == source_ref)
        ).first()
        if row is not None:
            return from_row(Refund, row)
    if gateway_refund_id:
        return ledger.find_by_gateway_refund(conn, gateway_refund_id, store_id=store_id)
    return None


def payment_of(conn: Connection, store_id: str, route: str, reference: str) -> Payment | None:
    p = payments.c
    row = conn.execute(
        select(payments).where(p.store_id == store_id, p.route == route, p.reference == reference)
    ).first()
    return from_row(Payment, row) if row is not None else None


def store_payments(conn: Connection, store_id: str, payment_ids: Iterable[int]) -> list[Payment]:
    wanted = sorted(set(payment_ids))
    if not wanted:
        return []
    rows = conn.execute(select(payments).where(payments.c.store_id == store_id, payments.c.id.in_(wanted)))
    return [from_row(Payment, row) for row in rows]


def money_moved_on(conn: Connection, payment_id: int) -> int:
    """What the ledger says went back on the payment, as a gateway counts it: successes, pending
    refunds (they hold the money) and records of money moved (a refund split across tenders counts
    through its parts, which carry the payments)."""
    r = refunds.c
    moved = or_(r.state.in_(states.SUCCESSES | {states.PENDING}), and_(r.state == states.RECORDED, r.money_moved))
    total = conn.execute(
        select(func.coalesce(func.sum(func.coalesce(r.approved_amount, r.amount)), 0)).where(
            r.payment_id == payment_id, moved
        )
    ).scalar_one()
    return int(total)


def untagged_record(conn: Connection, payment_id: int, amount: int) -> Refund | None:
    """A recorded refund on the payment with this amount that names no gateway refund yet: the
    platform's record of a refund the gateway also lists (backfill links the two instead of
    counting the money twice; ``hub.ledger.twins`` does the same for live events within a window)."""
    r = refunds.c
    row = conn.execute(
        select(refunds)
        .where(
            r.payment_id == payment_id,
            r.state == states.RECORDED,
            r.money_moved,
            r.gateway_refund_id.is_(None),
            r.approved_amount == amount,
            ~ledger.is_outside(),
        )
        .order_by(r.created_at, r.id)
        .limit(1)
    ).first()
    return from_row(Refund, row) if row is not None else None


# --- imports and repairs ---------------------------------------------------------------------


def import_outside_refund(
    conn: Connection,
    payment: Payment,
    *,
    connector: str,
    account: str,
    gateway_refund_id: str,
    amount: int,
    currency: str,
    created_at: datetime,
    actor: str,
) -> tuple[str, bool]:
    """A gateway refund nobody in the hub made, recorded as money that moved (never executed);
    the row keeps the gateway's time, so analytics count it where it happened. (id, created)."""
    source = f"{GATEWAY_SOURCE}{account}"
    existing = ledger.find_by_gateway_refund(conn, gateway_refund_id, store_id=payment.store_id)
    if existing is not None:
        return existing.id, False
    refund_id = ledger.open_outside_refund(
        conn, payment, connector=connector, source=source, gateway_refund_id=gateway_refund_id, amount=amount,
        currency=currency, delivery_id=None,
    )  # fmt: skip
    backdate(conn, refund_id, created_at)
    audit.write(
        conn, actor, "outside_refund_imported", refund_id=refund_id, gateway_refund_id=gateway_refund_id, amount=amount
    )
    return refund_id, True


def backdate(conn: Connection, refund_id: str, at: datetime) -> None:
    """An imported refund happened at ``at`` (the vendor's time), not when the hub learnt of it."""
    when = as_utc(at) or at
    conn.execute(update(refunds).where(refunds.c.id == refund_id).values(created_at=when, executed_at=when))


def link_gateway_refund(conn: Connection, refund_id: str, gateway_refund_id: str, actor: str) -> None:
    ledger.set_gateway_refund_id(conn, refund_id, gateway_refund_id)
    audit.write(conn, actor, "linked_gateway_refund", refund_id=refund_id, gateway_refund_id=gateway_refund_id)


def repair_key(drift: Drift) -> tuple[str, str] | None:
    """(subject, action) of the one repair the hub makes of a drift of this kind, if any: an
    outside refund imported (by its gateway id) or a missing write-back queued (by the refund)."""
    if drift.kind == UNKNOWN_AT_LEDGER and drift.outside_id:
        return f"{drift.source}:{drift.outside_id}", IMPORT
    if drift.kind == PLATFORM_RECORD_MISSING and drift.refund_id:
        return drift.refund_id, WRITE_BACK
    return None


def repair_once(conn: Connection, subject: str, action: str, run_id: str) -> bool:
    """Claim the one repair of ``subject`` by ``action``; False when an earlier run made it."""
    values = {"subject": subject, "action": action, "run_id": run_id, "at": _now()}
    return insert_ignore(conn, reconcile_repairs, values, conflict=("subject", "action"))


@dataclass(frozen=True)
class Repair:
    """Which run made a repair, and when."""

    run_id: str
    at: datetime


def repairs(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Repair]:
    """The repairs made of these (subject, action) keys (a report says when each was made)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    r = reconcile_repairs.c
    subjects = sorted({subject for subject, _ in wanted})
    rows = conn.execute(select(reconcile_repairs).where(r.subject.in_(subjects)))
    found = {(row.subject, row.action): Repair(row.run_id, as_utc(row.at) or row.at) for row in rows}
    return {key: found[key] for key in wanted if key in found}


# --- runs and their report -------------------------------------------------------------------


def start_run(
    conn: Connection, kind: str, connector: str, store_id: str, since: datetime, *, by: str | None = None,
    by_id: str | None = None,
) -> str:  # fmt: skip
    """A new run, ``by`` the actor (``user:<email>``, and ``by_id`` their user id) who asked for it."""
    run_id = f"rc_{uuid.uuid4().hex[:24]}"
    conn.execute(
        insert(reconcile_runs).values(
            id=run_id, kind=kind, connector=connector, store_id=store_id, since=since, started_at=_now(), counts={},
            started_by=by, started_by_id=by_id,
        )  # fmt: skip
    )
    return run_id


def add_items(conn: Connection, run_id: str, drifts: Sequence[Drift]) -> None:
    if drifts:
        conn.execute(insert(reconcile_items), [{"run_id": run_id, **asdict(d)} for d in drifts])


def finish_run(conn: Connection, run_id: str, counts: dict[str, int], error: str | None) -> None:
    conn.execute(
        update(reconcile_runs)
        .where(reconcile_runs.c.id == run_id)
        .values(finished_at=_now(), counts=dict(counts), error=error)
    )


def _run(row: Any) -> Run:
    return Run(row.id, row.kind, row.connector, row.store_id, as_utc(row.since) or row.since,
               as_utc(row.started_at) or row.started_at, as_utc(row.finished_at), dict(row.counts or {}),
               row.error, row.started_by, row.started_by_id)  # fmt: skip


def runs(
    conn: Connection, connector: str | None = None, store_id: str | None = None, limit: int = 20, *,
    kind: str | None = None, found: str | None = None, scope: StoreScope | None = None,
    before: tuple[datetime, str] | None = None,
) -> list[Run]:  # fmt: skip
    """The newest runs first (the console's list of reports): of one ``kind`` (reconcile |
    backfill), that ``found`` drift of that kind, only of the stores ``scope`` covers, after the
    ``before`` cursor (started_at, id) of the last run of the page before — whichever are given."""
    c = reconcile_runs.c
    query = select(reconcile_runs).order_by(c.started_at.desc(), c.id.desc()).limit(limit)
    if connector:
        query = query.where(c.connector == connector)
    if store_id:
        query = query.where(c.store_id == store_id)
    if kind:
        query = query.where(c.kind == kind)
    if found:
        i = reconcile_items.c
        query = query.where(select(i.id).where(i.run_id == c.id, i.kind == found).exists())
    if scope is not None:
        query = query.where(scope.clause(c.connector, c.store_id))
    if before is not None:
        at, last = before
        query = query.where(or_(c.started_at < at, and_(c.started_at == at, c.id < last)))
    return [_run(row) for row in conn.execute(query)]


def visible_refunds(conn: Connection, refund_ids: Iterable[str], scope: StoreScope) -> dict[str, str]:
    """Which of these refunds the ledger holds and ``scope`` may open, with the order each is of
    (a report links those, by the order a merchant knows them by)."""
    wanted = sorted({i for i in refund_ids if i})
    if not wanted:
        return {}
    r = refunds.c
    rows = conn.execute(select(r.id, r.order_id).where(r.id.in_(wanted), scope.clause(r.connector, r.store_id)))
    return {row.id: row.order_id for row in rows}


def payment_orders(conn: Connection, connector: str, store_id: str, references: Iterable[str]) -> dict[str, str]:
    """The order each of the store's payments (by reference) was refunded from, as far as the
    ledger's refunds on it say (a payment's total drifting names no refund, but it has an order)."""
    wanted = sorted({ref for ref in references if ref})
    if not wanted:
        return {}
    p, r = payments.c, refunds.c
    rows = conn.execute(
        select(p.reference, func.min(r.order_id).label("order_id"))
        .select_from(payments.join(refunds, r.payment_id == p.id))
        .where(p.store_id == store_id, p.reference.in_(wanted), r.connector == connector, r.order_id != "")
        .group_by(p.reference)
    )
    return {row.reference: row.order_id for row in rows}


def run(conn: Connection, run_id: str) -> Run | None:
    row = conn.execute(select(reconcile_runs).where(reconcile_runs.c.id == run_id)).first()
    return _run(row) if row is not None else None


def items(conn: Connection, run_id: str) -> list[Drift]:
    """A run's drift items in the order found."""
    return [drift for _, drift in item_page(conn, run_id)]


def item_page(
    conn: Connection, run_id: str, after: int = 0, limit: int | None = None, *, kind: str | None = None
) -> list[tuple[int, Drift]]:
    """(item id, drift) of a run in the order found, after item ``after`` (of one ``kind``, if
    given): a long report read a page at a time, on screen and while its CSV is written."""
    i = reconcile_items.c
    query = select(reconcile_items).where(i.run_id == run_id, i.id > after).order_by(i.id)
    if kind is not None:
        query = query.where(i.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    names = Drift.__dataclass_fields__
    return [(row.id, Drift(**{name: getattr(row, name) for name in names})) for row in conn.execute(query)]


def items_before(conn: Connection, run_id: str, upto: int, *, kind: str | None = None) -> int:
    """How many of a run's items (of ``kind``) come at or before item ``upto``: where a page starts."""
    i = reconcile_items.c
    query = select(func.count()).select_from(reconcile_items).where(i.run_id == run_id, i.id <= upto)
    if kind is not None:
        query = query.where(i.kind == kind)
    return int(conn.execute(query).scalar_one())
