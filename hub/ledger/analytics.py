"""Read models of refund analytics: each a function of one ``Slice`` (stores a person may see, one
store or platform, a period of request times) returning rows, aggregated in SQL so a page over a
million refunds reads a few rows — the same on SQLite and PostgreSQL. Most figures are summed from
the per store and day rollup (``hub.ledger.analytics_rollup``), which answers exactly what the
ledger does; the distinct orders of the refund rate and the percentiles of time to money do not add
across days and are read from the ledger's analytics index.

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
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, distinct, func, select

from hub.ledger import states
from hub.ledger.analytics_figures import (
    FEEDBACK,
    PRODUCTS,
    REASONS,
    REVIEWERS,
    ROUTES,
    RULES,
    TOTALS,
    Figure,
    Slice,
    r,
    refunded_amount,
)
from hub.ledger.analytics_rollup import summed

__all__ = ["Slice", "refunded_amount"]
WAITING = (states.REQUESTED, states.REVIEW, states.OFFERED, states.APPROVED, states.EXECUTING, states.PENDING,
           states.UNKNOWN)  # fmt: skip


def _rows(conn: Connection, figure: Figure, where: Slice, by: tuple[str, ...] = ()) -> list[Any]:
    return list(conn.execute(summed(conn, figure, where, by)))


def _is_store_credit(row: Any) -> bool:
    """Offered store credit instead of money, and not refused since (issuing keeps it ``offered``,
    ``hub.pipeline.alternatives``)."""
    return bool(row.state == states.OFFERED and row.action == "offer_alternative" and row.alternative == "store_credit")


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
    """From the ledger's analytics index: distinct orders do not add up across days."""
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
    """Per currency, from the refunds' totals per state and decision."""
    found: dict[str, list[int]] = {}
    for row in _rows(conn, TOTALS, where):
        asked = int(row.requested)
        credit = _is_store_credit(row)
        parts = (
            int(row.refunds), asked, int(row.refunded), int(row.kept) if row.state in states.SUCCESSES else 0,
            asked if row.state == states.DENIED else 0, int(row.offered) if credit else 0,
            asked if row.state in WAITING and not credit else 0, asked if row.state == states.FAILED else 0,
        )  # fmt: skip
        sums = found.setdefault(row.currency, [0] * len(parts))
        found[row.currency] = [a + b for a, b in zip(sums, parts, strict=True)]
    return [MoneyRow(currency, *found[currency]) for currency in sorted(found)]


# --- the trend ------------------------------------------------------------------------------

BUCKETS = ("day", "week")


@dataclass(frozen=True)
class TrendRow:
    period: str  # the first day of the day or week, YYYY-MM-DD
    refunds: int
    refunded: dict[str, int]


def _period(day: str, bucket: str) -> str:
    """The day itself, or the Monday of its week (UTC, as the rollup's days)."""
    if bucket == "day":
        return day
    found = date.fromisoformat(day)
    return (found - timedelta(days=found.weekday())).isoformat()


def trend(conn: Connection, where: Slice, bucket: str = "day") -> list[TrendRow]:
    """Refunds per day or week of the period, every day or week of it (none asked for: a zero)."""
    if bucket not in BUCKETS:
        raise ValueError(f"a trend by day or week, not {bucket!r}")
    counts: dict[str, int] = {}
    refunded: dict[str, dict[str, int]] = {}
    for row in _rows(conn, TOTALS, where, ("day",)):
        period = _period(row.day, bucket)
        counts[period] = counts.get(period, 0) + int(row.refunds)
        if int(row.refunded or 0):
            money = refunded.setdefault(period, {})
            money[row.currency] = money.get(row.currency, 0) + int(row.refunded)
    step = timedelta(days=1 if bucket == "day" else 7)
    first = where.since.date() - timedelta(days=where.since.weekday() if bucket == "week" else 0)
    last = (where.until - timedelta(microseconds=1)).date()
    periods = []
    while first <= last:
        periods.append(first.isoformat())
        first += step
    return [TrendRow(p, counts.get(p, 0), refunded.get(p, {})) for p in periods]


# --- reasons, breakdowns -------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """A group (a reason, a store, a gateway…), its refunds and, per currency, what went back."""

    key: str
    refunds: int
    refunded: dict[str, int]


def _ranked(rows: list[tuple[str, str, Any, Any]], limit: int | None) -> list[CountRow]:
    """(group, currency, refunds, refunded) rows as groups, the most refunds first."""
    counts: dict[str, int] = {}
    refunded: dict[str, dict[str, int]] = {}
    for group, currency, count, paid in rows:
        counts[group] = counts.get(group, 0) + int(count)
        if int(paid or 0):
            money = refunded.setdefault(group, {})
            money[currency] = money.get(currency, 0) + int(paid)
    ranked = sorted(counts, key=lambda k: (-counts[k], k))
    return [CountRow(k, counts[k], refunded.get(k, {})) for k in ranked[:limit]]


def top_reasons(conn: Connection, where: Slice, limit: int | None = 10) -> list[CountRow]:
    rows = _rows(conn, REASONS, where)
    return _ranked([(row.reason, row.currency, row.refunds, row.refunded) for row in rows], limit)


BREAKDOWNS = ("platform", "store", "gateway")


def breakdown(conn: Connection, where: Slice, by: str) -> list[CountRow]:
    """Refunds by ``platform``, ``store`` (``connector:store``) or ``gateway`` (the route: per part,
    where a refund was split across tenders — the payments the money moved on)."""
    if by not in BREAKDOWNS:
        raise ValueError(f"breakdown by one of {', '.join(BREAKDOWNS)}, not {by!r}")
    if by == "gateway":
        rows = [(row.route, row.currency, row.refunds, row.refunded) for row in _rows(conn, ROUTES, where)]
    elif by == "platform":
        rows = [(row.connector, row.currency, row.refunds, row.refunded)
                for row in _rows(conn, TOTALS, where, ("connector",))]  # fmt: skip
    else:
        rows = [(f"{row.connector}:{row.store_id}", row.currency, row.refunds, row.refunded)
                for row in _rows(conn, TOTALS, where, ("connector", "store_id"))]  # fmt: skip
    return _ranked(rows, None)


# --- products and rules (JSON arrays in the row) -------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    sku: str
    refunds: int  # refunds with this SKU among their lines
    units: int  # units refunded


def products(conn: Connection, where: Slice, limit: int = 20) -> list[ProductRow]:
    """SKUs (else product ids) by how many refunds name them."""
    found = summed(conn, PRODUCTS, where).subquery()
    query = select(found).order_by(found.c.refunds.desc(), found.c.sku).limit(limit)
    return [ProductRow(str(row.sku), int(row.refunds), int(row.units)) for row in conn.execute(query)]


@dataclass(frozen=True)
class RuleRow:
    rule: str
    effect: str
    refunds: int


def rules_fired(conn: Connection, where: Slice) -> list[RuleRow]:
    """Which policy rules fired on the period's decisions, and how often (one count per refund)."""
    found = summed(conn, RULES, where).subquery()
    query = select(found).order_by(found.c.refunds.desc(), found.c.rule, found.c.effect)
    return [RuleRow(str(row.rule), str(row.effect), int(row.refunds)) for row in conn.execute(query)]


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
    sent = [row for row in _rows(conn, TOTALS, where) if row.action == "review"]
    waiting = sum(int(row.refunds) for row in sent if row.state == states.REVIEW)
    denied = sum(int(row.refunds) for row in sent if row.state == states.DENIED)
    total = sum(int(row.refunds) for row in sent)
    people: dict[str, tuple[int, int]] = {}
    for row in _rows(conn, REVIEWERS, where):
        yes, no = people.get(row.actor, (0, 0))
        count = int(row.refunds)
        people[row.actor] = (yes + count, no) if row.verdict == states.APPROVED else (yes, no + count)
    return ReviewRow(total, waiting, total - waiting - denied, denied, dict(sorted(people.items())))


# --- customer feedback ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackRow:
    rating: int  # 1..5
    answers: int
    corrected: int  # ... of which gave their own reason instead of the one on record


def feedback_scores(conn: Connection, where: Slice) -> list[FeedbackRow]:
    """What customers rated the period's refunds, one row per rating given (``hub.ledger.feedback``)."""
    rows = [FeedbackRow(int(row.rating), int(row.answers), int(row.corrected)) for row in _rows(conn, FEEDBACK, where)]
    return sorted(rows, key=lambda row: row.rating)
