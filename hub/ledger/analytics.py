"""Read models of refund analytics: each a function of one ``Slice`` (stores a person may see, one
store or platform, a period of request times) returning rows, aggregated in SQL so a page over a
million refunds reads a few rows — the same on SQLite and PostgreSQL.

A *refund* here is a logical refund: the parts a split refund is paid back in (``parent_id``) are
counted through their refund, except where money moves per payment (time to money, gateways).
Money is never added across currencies: every money figure is per currency.

*Refunded*: what reached the customer's payment — an executed success (its approved amount) or a
record of money moved elsewhere. *Retained*: what was asked for and did not go back: denied,
the part a partial approval kept, and what went back as store credit instead of money.

Refund rate needs orders the hub does not see: it counts only orders with a refund request.
``refund_rate`` takes the platform's order counts per store when the caller has them (Shopify
``ordersCount``, WooCommerce ``GET /reports/orders/totals``, Magento ``GET /V1/orders`` with
``searchCriteria`` total_count — no connector reads them yet) and otherwise leaves the rate empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, and_, case, column, distinct, func, literal, select, true
from sqlalchemy.sql import Select

from hub.db.tables import audit, refunds
from hub.db.tables_customer import feedback
from hub.ledger import states
from hub.ledger.people import ALL_STORES, StoreScope

r = refunds.c
WAITING = (states.REQUESTED, states.REVIEW, states.OFFERED, states.APPROVED, states.EXECUTING, states.PENDING,
           states.UNKNOWN)  # fmt: skip


@dataclass(frozen=True)
class Slice:
    """Which refunds a figure is about: requested in [since, until), within ``scope``."""

    since: datetime
    until: datetime
    scope: StoreScope = ALL_STORES
    store_id: str | None = None
    connector: str | None = None  # the platform

    def where(self, *, parts: bool = False) -> ColumnElement[bool]:
        clauses = [self.scope.clause(r.connector, r.store_id), r.created_at >= self.since, r.created_at < self.until]
        if not parts:
            clauses.append(r.parent_id.is_(None))
        if self.store_id:
            clauses.append(r.store_id == self.store_id)
        if self.connector:
            clauses.append(r.connector == self.connector)
        return and_(*clauses)


def _reason() -> ColumnElement[Any]:
    return func.coalesce(r.request["reason"].as_string(), "other")


def _decision(key: str) -> ColumnElement[Any]:
    return r.decision[("decision", key)].as_string()


def refunded_amount() -> ColumnElement[Any]:
    """What reached the customer's payment, per row (see the module's words)."""
    return case(
        (r.state.in_(states.SUCCESSES), func.coalesce(r.approved_amount, r.amount)),
        (and_(r.state == states.RECORDED, r.money_moved), r.amount),
        else_=0,
    )


def _store_credit() -> ColumnElement[bool]:
    """Offered store credit instead of money, and not refused since (issuing keeps it ``offered``,
    ``hub.pipeline.alternatives``)."""
    return and_(r.state == states.OFFERED, _decision("action") == "offer_alternative",
                _decision("alternative") == "store_credit")  # fmt: skip


# --- refund rate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    connector: str
    store_id: str
    refunds: int  # logical refunds requested or recorded in the period
    orders_with_refunds: int  # distinct orders among them (what the hub saw)
    orders: int | None  # the platform's order count, when given
    rate: float | None  # refunds ÷ orders (None without the platform's count)


def refund_rate(conn: Connection, where: Slice, orders: Mapping[tuple[str, str], int] | None = None) -> list[RateRow]:
    query = (
        select(r.connector, r.store_id, func.count(), func.count(distinct(r.order_id)))
        .where(where.where())
        .group_by(r.connector, r.store_id)
        .order_by(r.connector, r.store_id)
    )
    rows = []
    for connector, store_id, count, distinct_orders in conn.execute(query):
        known = (orders or {}).get((connector, store_id))
        rate = count / known if known else None
        rows.append(RateRow(connector, store_id, int(count), int(distinct_orders), known, rate))
    return rows


# --- money refunded vs retained ------------------------------------------------------------


@dataclass(frozen=True)
class MoneyRow:
    currency: str
    refunds: int
    requested: int
    refunded: int  # reached the customer's payment
    partial_retained: int  # asked for, kept by a partial approval that was paid
    denied: int  # asked for, denied
    store_credit: int  # offered (and not refused) as store credit instead of money: the value offered
    open: int  # still to be decided or moved
    failed: int  # approved, but the payment refused it


def money(conn: Connection, where: Slice) -> list[MoneyRow]:
    """Two reads: the columns of every refund (from the analytics index alone), then the decisions
    of the few offered store credit (the only figure in the JSON)."""

    def total(when: ColumnElement[bool], value: ColumnElement[Any]) -> Any:
        return func.coalesce(func.sum(case((when, value), else_=0)), 0)

    paid = r.state.in_(states.SUCCESSES)
    query = (
        select(
            r.currency,
            func.count(),
            func.coalesce(func.sum(r.amount), 0),
            func.coalesce(func.sum(refunded_amount()), 0),
            total(paid, r.amount - func.coalesce(r.approved_amount, r.amount)),
            total(r.state == states.DENIED, r.amount),
            total(r.state.in_(WAITING), r.amount),
            total(r.state == states.FAILED, r.amount),
        )
        .where(where.where())
        .group_by(r.currency)
        .order_by(r.currency)
    )
    offered = func.coalesce(r.decision[("decision", "amount")].as_integer(), r.amount)
    credit = {
        currency: (int(value), int(asked))
        for currency, value, asked in conn.execute(
            select(r.currency, func.sum(offered), func.sum(r.amount))
            .where(where.where(), r.state == states.OFFERED, _store_credit())
            .group_by(r.currency)
        )
    }
    found = []
    for currency, count, requested, refunded, partial, denied, waiting, failed in conn.execute(query):
        value, asked = credit.get(currency, (0, 0))
        found.append(MoneyRow(currency, int(count), int(requested), int(refunded), int(partial), int(denied),
                              value, int(waiting) - asked, int(failed)))  # fmt: skip
    return found


# --- the trend ------------------------------------------------------------------------------

BUCKETS = ("day", "week")


def _bucket(conn: Connection, bucket: str) -> ColumnElement[Any]:
    """The day (``YYYY-MM-DD``) or the Monday of the week a refund was requested in, in UTC. On
    SQLite from the text's date part: ``date()`` of the whole text rounds ``…59.9999995`` up a day."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.date_trunc(bucket, func.timezone("UTC", r.created_at)), "YYYY-MM-DD")
    day = func.substr(r.created_at, 1, 10)
    return day if bucket == "day" else func.date(day, "-6 days", "weekday 1")


@dataclass(frozen=True)
class TrendRow:
    period: str  # the first day of the day or week, YYYY-MM-DD
    refunds: int
    refunded: dict[str, int]


def trend(conn: Connection, where: Slice, bucket: str = "day") -> list[TrendRow]:
    """Refunds per day or week of the period, every day or week of it (none asked for: a zero)."""
    if bucket not in BUCKETS:
        raise ValueError(f"a trend by day or week, not {bucket!r}")
    found = {row.key: row for row in _grouped(conn, _bucket(conn, bucket), where.where(), None)}
    step = timedelta(days=1 if bucket == "day" else 7)
    first = where.since.date() - timedelta(days=where.since.weekday() if bucket == "week" else 0)
    last = (where.until - timedelta(microseconds=1)).date()
    periods = []
    while first <= last:
        periods.append(first.isoformat())
        first += step
    return [TrendRow(p, found[p].refunds, found[p].refunded) if p in found else TrendRow(p, 0, {}) for p in periods]


# --- reasons, breakdowns -------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """A group (a reason, a store, a gateway…), its refunds and, per currency, what went back."""

    key: str
    refunds: int
    refunded: dict[str, int]


def _grouped(
    conn: Connection, key: ColumnElement[Any], where: ColumnElement[bool], limit: int | None
) -> list[CountRow]:
    """Refunds and money back per ``key``, read in one pass over the slice (per key and currency)."""
    rows = conn.execute(
        select(key.label("key"), r.currency, func.count(), func.sum(refunded_amount()))
        .where(where)
        .group_by(key, r.currency)
    )
    counts: dict[Any, int] = {}
    refunded: dict[Any, dict[str, int]] = {}
    for group, currency, count, paid in rows:
        counts[group] = counts.get(group, 0) + int(count)
        if int(paid or 0):
            refunded.setdefault(group, {})[currency] = int(paid)
    ranked = sorted(counts, key=lambda k: (-counts[k], str(k)))
    return [CountRow(str(k), counts[k], refunded.get(k, {})) for k in ranked[:limit]]


def top_reasons(conn: Connection, where: Slice, limit: int | None = 10) -> list[CountRow]:
    return _grouped(conn, _reason(), where.where(), limit)


BREAKDOWNS = {
    "platform": lambda: r.connector,
    "store": lambda: r.connector + literal(":") + r.store_id,
    "gateway": lambda: func.coalesce(r.route, "none"),
}


def breakdown(conn: Connection, where: Slice, by: str) -> list[CountRow]:
    """Refunds by ``platform``, ``store`` (``connector:store``) or ``gateway`` (the route: per part,
    where a refund was split across tenders — the payments the money moved on)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"breakdown by one of {', '.join(BREAKDOWNS)}, not {by!r}")
    gateway = by == "gateway"
    filters = and_(where.where(parts=gateway), r.route != "tenders") if gateway else where.where()
    return _grouped(conn, BREAKDOWNS[by](), filters, None)


# --- products and rules (JSON arrays in the row) -------------------------------------------


def _elements(conn: Connection, path: str) -> Any:
    """The elements of a JSON array in ``refunds.request`` or ``refunds.decision`` as a table with a
    ``value`` column (``json_each`` on SQLite, ``json_array_elements`` on PostgreSQL)."""
    source, key = path.split(".", 1)
    document = r.request if source == "request" else r.decision
    if conn.dialect.name == "postgresql":
        parts = key.split(".")
        return func.json_array_elements(document[tuple(parts)] if len(parts) > 1 else document[key]).table_valued(
            column("value", JSON)
        )
    return func.json_each(document, f"$.{key}").table_valued(column("value", JSON))


@dataclass(frozen=True)
class ProductRow:
    sku: str
    refunds: int  # refunds with this SKU among their lines
    units: int  # units refunded


def products(conn: Connection, where: Slice, limit: int = 20) -> list[ProductRow]:
    """SKUs (else product ids) by how many refunds name them."""
    lines = _elements(conn, "request.lines")
    sku = func.coalesce(lines.c.value["sku"].as_string(), lines.c.value["product_id"].as_string(), "")
    quantity = lines.c.value["quantity"].as_integer()
    query: Select[Any] = (
        select(sku.label("sku"), func.count(distinct(r.id)).label("n"), func.coalesce(func.sum(quantity), 0))
        .select_from(refunds.join(lines, true()))
        .where(where.where())
        .group_by(sku)
        .order_by(func.count(distinct(r.id)).desc(), sku)
        .limit(limit)
    )
    return [ProductRow(str(row[0]), int(row[1]), int(row[2])) for row in conn.execute(query)]


@dataclass(frozen=True)
class RuleRow:
    rule: str
    effect: str
    refunds: int


def rules_fired(conn: Connection, where: Slice) -> list[RuleRow]:
    """Which policy rules fired on the period's decisions, and how often (one count per refund)."""
    hits = _elements(conn, "decision.decision.rules")
    rule, effect = hits.c.value["rule"].as_string(), hits.c.value["effect"].as_string()
    query = (
        select(rule, effect, func.count(distinct(r.id)))
        .select_from(refunds.join(hits, true()))
        .where(where.where(), r.decision.is_not(None))
        .group_by(rule, effect)
        .order_by(func.count(distinct(r.id)).desc(), rule, effect)
    )
    return [RuleRow(str(row[0]), str(row[1]), int(row[2])) for row in conn.execute(query)]


# --- time to money, review --------------------------------------------------------------------


@dataclass(frozen=True)
class TimingRow:
    route: str
    refunds: int
    average_seconds: float
    median_seconds: float
    p90_seconds: float
    longest_seconds: float


def _seconds(conn: Connection) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", r.executed_at - r.created_at)
    return (func.julianday(r.executed_at) - func.julianday(r.created_at)) * 86400.0


def time_to_money(conn: Connection, where: Slice) -> list[TimingRow]:
    """From the request reaching the hub to the money moving, per route (each payment movement:
    the parts of a split refund each count). One pass: each movement numbered in its route's order
    of waiting, the median and the 90th percentile read at their nearest rank."""
    # the state through coalesce (never null): an index on the state would win the planner's guess
    # and read every row, where the analytics index holds every column this needs
    counted = func.coalesce(r.state, "").in_(sorted(states.SUCCESSES | {states.PENDING}))
    moved = and_(where.where(parts=True), r.executed_at.is_not(None), r.kind == "requested", r.route != "tenders",
                 counted)  # fmt: skip
    seconds = _seconds(conn)
    numbered = (
        select(
            r.route.label("route"),
            seconds.label("seconds"),
            func.row_number().over(partition_by=r.route, order_by=seconds).label("n"),
            func.count().over(partition_by=r.route).label("total"),
        )
        .where(moved)
        .subquery()
    )
    m = numbered.c
    query = (
        select(m.route, func.max(m.total), func.avg(m.seconds), _at_rank(m, 5), _at_rank(m, 9), func.max(m.seconds))
        .group_by(m.route)
        .order_by(m.route)
    )
    return [TimingRow(str(row[0]), int(row[1]), *(float(v) for v in row[2:])) for row in conn.execute(query)]


def _at_rank(m: Any, tenths: int) -> ColumnElement[Any]:
    """The waiting at ``tenths``/10 of the way through its route (nearest rank: the ⌈p·n⌉-th, in
    integers, so 0.9 × 70 is the 63rd and not, by a float's rounding, the 64th)."""
    return func.max(case((m.n == (m.total * tenths + 9) // 10, m.seconds)))


@dataclass(frozen=True)
class ReviewRow:
    sent_to_review: int  # the policy asked a person
    waiting: int  # ... still in review
    approved: int  # ... a person approved (paid or on its way)
    denied: int  # ... a person denied
    by_person: dict[str, tuple[int, int]]  # who reviewed: (approved, denied), from the audit trail


def review(conn: Connection, where: Slice) -> ReviewRow:
    sent = and_(where.where(), _decision("action") == "review")
    waiting, approved, denied, total = conn.execute(
        select(
            func.coalesce(func.sum(case((r.state == states.REVIEW, 1), else_=0)), 0),
            func.coalesce(func.sum(case((r.state.not_in((states.REVIEW, states.DENIED)), 1), else_=0)), 0),
            func.coalesce(func.sum(case((r.state == states.DENIED, 1), else_=0)), 0),
            func.count(),
        ).where(sent)
    ).one()
    verdict = audit.c.detail["state"].as_string()
    people: dict[str, tuple[int, int]] = {}
    rows = conn.execute(
        select(audit.c.actor, verdict, func.count(distinct(audit.c.refund_id)))
        .select_from(audit.join(refunds, refunds.c.id == audit.c.refund_id))
        .where(audit.c.action == "reviewed", where.where())
        .group_by(audit.c.actor, verdict)
    )
    for actor, state, count in rows:
        yes, no = people.get(actor, (0, 0))
        people[actor] = (yes + int(count), no) if state == states.APPROVED else (yes, no + int(count))
    return ReviewRow(int(total), int(waiting), int(approved), int(denied), dict(sorted(people.items())))


# --- customer feedback ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackRow:
    rating: int  # 1..5
    answers: int
    corrected: int  # ... of which gave their own reason instead of the one on record


def feedback_scores(conn: Connection, where: Slice) -> list[FeedbackRow]:
    """What customers rated the period's refunds, one row per rating given (``hub.ledger.feedback``)."""
    f = feedback.c
    rows = conn.execute(
        select(f.rating, func.count(), func.count(f.reason))
        .select_from(feedback.join(refunds, r.id == f.refund_id))
        .where(where.where())
        .group_by(f.rating)
        .order_by(f.rating)
    )
    return [FeedbackRow(int(rating), int(count), int(corrected)) for rating, count, corrected in rows]
