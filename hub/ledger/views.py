"""Read models for the JSON API, the console and the CLI: what a person looks at, in one place.

Each view reads in its own short transaction shape (the caller's ``read`` unit) and returns
records, never rows, so the web layer holds no SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true, union_all

from hub.db.tables import approvals, audit, refund_notes, refunds, users
from hub.db.tables import deliveries as deliveries_table
from hub.db.tables import stores as stores_table
from hub.ledger.people import ALL_STORES, StoreScope
from hub.ledger.records import AuditEntry, DeliverySummary, Refund, as_utc, from_row
from hub.ledger.tenders import parts_of

MAX_PAGE = 500


def trail(conn: Connection, refund_id: str) -> list[AuditEntry]:
    """The refund's audit trail, oldest first."""
    rows = conn.execute(select(audit).where(audit.c.refund_id == refund_id).order_by(audit.c.id))
    return [from_row(AuditEntry, row) for row in rows]


def refund_with_trail(
    conn: Connection, refund_id: str, scope: StoreScope = ALL_STORES
) -> tuple[Refund, Sequence[AuditEntry]] | None:
    """The refund and its trail; None if there is none — or none the scope may see (the same
    answer: another tenant's refund does not exist for you)."""
    row = conn.execute(
        select(refunds).where(refunds.c.id == refund_id, scope.clause(refunds.c.connector, refunds.c.store_id))
    ).first()
    if row is None:
        return None
    return from_row(Refund, row), trail(conn, refund_id)


def delivery_list(conn: Connection, status: str, limit: int, scope: StoreScope = ALL_STORES) -> list[DeliverySummary]:
    """Deliveries in ``status`` (dead letters by default in the API) within ``scope``, newest first."""
    d = deliveries_table
    rows = conn.execute(
        select(d.c.id, d.c.connector, d.c.store_id, d.c.topic, d.c.status, d.c.error, d.c.received_at)
        .where(d.c.status == status, scope.clause(d.c.connector, d.c.store_id))
        .order_by(d.c.received_at.desc())
        .limit(min(limit, MAX_PAGE))
    )
    return [from_row(DeliverySummary, row) for row in rows]


def delivery_visible(conn: Connection, delivery_id: str, scope: StoreScope) -> bool:
    d = deliveries_table
    found = conn.execute(select(d.c.id).where(d.c.id == delivery_id, scope.clause(d.c.connector, d.c.store_id))).first()
    return found is not None


# --- the merchant console's read models -------------------------------------------------------

QUEUE_STATES = ("review", "offered")  # hub.ledger.states.REVIEW, OFFERED: a person decides


@dataclass(frozen=True)
class QueueItem:
    """A refund waiting for a person, and whether a first approval waits for its checker."""

    refund: Refund
    approvals: int  # approvals recorded so far (maker-checker: one waits for a second)

    @property
    def awaiting_checker(self) -> bool:
        return self.approvals > 0


@dataclass(frozen=True)
class Note:
    id: int
    refund_id: str
    user_id: str
    author: str  # the user's e-mail, or the user id when the user is gone
    body: str
    at: datetime


@dataclass(frozen=True)
class RefundPage:
    """Everything the console's refund page shows, read in one transaction."""

    refund: Refund
    trail: Sequence[AuditEntry]
    notes: Sequence[Note]
    approvals: dict[str, int]  # approver (user id) → amount
    people: dict[str, str]  # user id → e-mail, for the approvers and the assignee
    parts: Sequence[Refund] = ()  # one per tender, when the order was paid more than one way


@dataclass(frozen=True)
class StoreSummary:
    connector: str
    store_id: str
    enabled: bool
    source: str
    policy: str | None
    last_delivery_at: datetime | None


def _after(created_at: Any, id_: Any, cursor: tuple[datetime, str], *, descending: bool) -> ColumnElement[bool]:
    """Keyset paging on ``(created_at, id)``: rows strictly after the cursor in the sort order.

    The bound on ``created_at`` alone is what an index range starts at; without it neither
    planner derives one from the ``OR`` and each page walks the index from the first row again
    (a million-refund export slowed page after page). The ``OR`` then only settles the rows that
    share the cursor's time."""
    at, last = cursor
    if descending:
        return and_(created_at <= at, or_(created_at < at, id_ < last))
    return and_(created_at >= at, or_(created_at > at, id_ > last))


def review_queue(
    conn: Connection,
    scope: StoreScope,
    store_id: str | None = None,
    limit: int = 50,
    cursor: tuple[datetime, str] | None = None,
) -> list[QueueItem]:
    """Refunds waiting for a person (in review, offered, or flagged ``needs_person``) within
    ``scope``, oldest first; ``cursor``: the last ``(created_at, id)`` of the previous page.

    One read per kind of waiting, each walking its index in age order and stopping at a page
    (``ix_refunds_queue`` carries the id and store, so the scope is filtered in the index), merged
    here; one ``OR`` over them would scan the ledger."""
    r = refunds
    limit = min(limit, MAX_PAGE)
    kinds = [r.c.state == state for state in QUEUE_STATES]
    kinds.append(r.c.needs_person.is_(true()) & r.c.state.not_in(QUEUE_STATES))
    whole = r.c.parent_id.is_(None)  # a part of a split refund waits with its refund, not alone
    keys: list[tuple[datetime, str]] = []
    for kind in kinds:
        filters = [kind, whole, *([r.c.store_id == store_id] if store_id else [])]
        if cursor is not None:
            filters.append(_after(r.c.created_at, r.c.id, cursor, descending=False))
        keys += _keys(conn, scope, filters, descending=False, limit=limit, fan_out=False)
    keys.sort(key=lambda key: (as_utc(key[0]), key[1]))
    page = [from_row(Refund, row) for row in _rows(conn, [key for _, key in keys[:limit]])]
    counts = _approval_counts(conn, [item.id for item in page])
    return [QueueItem(item, counts.get(item.id, 0)) for item in page]


FAN_OUT = 32  # up to this many granted stores, a list is read store by store and merged


def _keys(
    conn: Connection,
    scope: StoreScope,
    filters: list[ColumnElement[bool]],
    *,
    descending: bool,
    limit: int,
    fan_out: bool,
) -> list[tuple[datetime, str]]:
    """A page's ``(created_at, id)`` within ``scope``, in that order: two columns an index can
    answer alone; ``_rows`` reads the page's rows after.

    With ``fan_out`` and a handful of granted stores, each store's page is read on its own
    ``(store_id, created_at)`` index and the pages merged in SQL (``UNION ALL``): no planner picks
    that for ``store_id IN (…)`` ordered by time, and sorting every row of the granted stores to
    show the newest fifty costs seconds at a million refunds."""

    def ordered(table: Any) -> tuple[Any, ...]:
        return (table.c.created_at.desc(), table.c.id.desc()) if descending else (table.c.created_at, table.c.id)

    r = refunds
    pairs = scope.pairs() if fan_out else None
    if pairs is None or not 1 < len(pairs) <= FAN_OUT:
        keyed = select(r.c.created_at, r.c.id).where(scope.clause(r.c.connector, r.c.store_id), *filters)
        return [(row.created_at, row.id) for row in conn.execute(keyed.order_by(*ordered(r)).limit(limit))]
    pages = [
        select(r.c.created_at, r.c.id)
        .where(r.c.connector == c, r.c.store_id == s, *filters)
        .order_by(*ordered(r))
        .limit(limit)
        .subquery()
        for c, s in pairs
    ]
    merged = union_all(*(select(page) for page in pages)).subquery()
    picked = select(merged.c.created_at, merged.c.id).order_by(*ordered(merged)).limit(limit)
    return [(row.created_at, row.id) for row in conn.execute(picked)]


def _rows(conn: Connection, ids: list[str]) -> list[Any]:
    """The refund rows of ``ids``, in that order, in one read."""
    found = {row.id: row for row in conn.execute(select(refunds).where(refunds.c.id.in_(ids)))} if ids else {}
    return [found[key] for key in ids if key in found]


def _approval_counts(conn: Connection, refund_ids: list[str]) -> dict[str, int]:
    if not refund_ids:
        return {}
    a = approvals.c
    rows = conn.execute(select(a.refund_id, func.count()).where(a.refund_id.in_(refund_ids)).group_by(a.refund_id))
    return {row[0]: int(row[1]) for row in rows}


def refund_search(
    conn: Connection,
    scope: StoreScope,
    *,
    store_id: str | None = None,
    state: str | None = None,
    connector: str | None = None,
    route: str | None = None,
    reason: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    currency: str | None = None,
    amount_min: int | None = None,
    amount_max: int | None = None,
    limit: int = 50,
    cursor: tuple[datetime, str] | None = None,
) -> list[Refund]:
    """Refunds within ``scope`` newest first, filtered; keyset paging on ``(created_at, id)``
    (``cursor``: the last row of the previous page). Amounts are minor units of ``currency``;
    ``route`` is ``gateway:<account>``, ``platform`` or ``none``; ``reason`` the normalized code."""
    r = refunds
    equal = {
        r.c.store_id: store_id,
        r.c.state: state,
        r.c.connector: connector,
        r.c.route: route,
        r.c.currency: currency,
        r.c.request["reason"].as_string(): reason,
    }
    filters: list[ColumnElement[bool]] = [column == value for column, value in equal.items() if value]
    filters.append(r.c.parent_id.is_(None))  # refunds, not the parts a split refund is paid in
    if created_from is not None:
        filters.append(r.c.created_at >= created_from)
    if created_before is not None:
        filters.append(r.c.created_at < created_before)
    if amount_min is not None:
        filters.append(r.c.amount >= amount_min)
    if amount_max is not None:
        filters.append(r.c.amount <= amount_max)
    if cursor is not None:
        filters.append(_after(r.c.created_at, r.c.id, cursor, descending=True))
    # a state or an amount range has an index of its own that orders or narrows better than the stores'
    by_store = not (store_id or state or amount_min is not None or amount_max is not None)
    keys = _keys(conn, scope, filters, descending=True, limit=min(limit, MAX_PAGE), fan_out=by_store)
    return [from_row(Refund, row) for row in _rows(conn, [key for _, key in keys])]


def refund_page(conn: Connection, refund_id: str, scope: StoreScope) -> RefundPage | None:
    """The refund with its trail, notes and approvals; None outside ``scope`` (as if absent)."""
    found = refund_with_trail(conn, refund_id, scope)
    if found is None:
        return None
    refund, entries = found
    rows = conn.execute(
        select(refund_notes, users.c.email)
        .select_from(refund_notes.outerjoin(users, users.c.id == refund_notes.c.user_id))
        .where(refund_notes.c.refund_id == refund_id)
        .order_by(refund_notes.c.id)
    )
    notes = [
        Note(row.id, row.refund_id, row.user_id, row.email or row.user_id, row.body, as_utc(row.at) or row.at)
        for row in rows
    ]
    given = {
        r.user_id: int(r.amount)
        for r in conn.execute(select(approvals.c.user_id, approvals.c.amount).where(approvals.c.refund_id == refund_id))
    }
    ids = set(given) | ({refund.assigned_to} if refund.assigned_to else set())
    ids |= {str(e.detail["to"]) for e in entries if e.action == "assigned" and e.detail.get("to")}
    people = {u.id: u.email for u in conn.execute(select(users.c.id, users.c.email).where(users.c.id.in_(ids)))}
    return RefundPage(refund, entries, notes, given, people, parts_of(conn, refund_id))


def store_list(conn: Connection, scope: StoreScope) -> list[StoreSummary]:
    """The stores within ``scope`` with the time of their last delivery."""
    d = deliveries_table
    last = (
        select(func.max(d.c.received_at))
        .where(d.c.connector == stores_table.c.connector, d.c.store_id == stores_table.c.store_id)
        .scalar_subquery()
    )
    s = stores_table
    rows = conn.execute(
        select(s.c.connector, s.c.store_id, s.c.enabled, s.c.source, s.c.policy, last.label("last_delivery_at"))
        .where(scope.clause(s.c.connector, s.c.store_id))
        .order_by(s.c.connector, s.c.store_id)
    )
    return [
        StoreSummary(r.connector, r.store_id, bool(r.enabled), r.source, r.policy, as_utc(r.last_delivery_at))
        for r in rows
    ]
