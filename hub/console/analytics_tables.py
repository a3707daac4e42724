"""The analytics pages' tables, each with the chart drawn from it. A ``Table`` is what the page
prints and, cell for cell, what its CSV download holds: the chart, the table and the CSV come from
the same rows, so they cannot disagree. The read models run once per request (``Reads``) whatever
number of tables use them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from markupsafe import Markup

from hub.console import analytics_charts as charts
from hub.console.analytics_orders import Counted
from hub.console.format import money
from hub.ledger import analytics
from hub.ledger.analytics import CountRow, Slice

FRAUD_RULES = "abuse."  # the policy's abuse signals: blocklist, velocity, refund-to-order ratio
FRAUD_REASON = "fraud"


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    numeric: frozenset[int] = frozenset()  # the columns printed right-aligned
    chart: Markup | None = None
    note: str = ""
    empty: str = "Nothing in this period."


@dataclass
class Reads:
    """The read models of one request over one slice; each runs at most once."""

    conn: Any  # a read connection (hub.ledger.unit.read); the console names no SQLAlchemy type
    where: Slice
    bucket: str
    orders: Mapping[tuple[str, str], Counted] = field(default_factory=dict)
    stores: Sequence[tuple[str, str]] = ()  # the visible stores the slice covers

    @cached_property
    def reasons(self) -> list[CountRow]:
        return analytics.top_reasons(self.conn, self.where, limit=None)

    @cached_property
    def rules(self) -> list[analytics.RuleRow]:
        return analytics.rules_fired(self.conn, self.where)

    @cached_property
    def review(self) -> analytics.ReviewRow:
        return analytics.review(self.conn, self.where)


def count(n: int) -> str:
    return f"{n:,}"


def share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def amounts(by_currency: Mapping[str, int]) -> str:
    """Money in several currencies, never added up: ``1,234.50 USD; 99.00 EUR``."""
    return "; ".join(money(v, c) for c, v in sorted(by_currency.items())) or "—"


def duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600:02d} h"


def reason_word(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _bars(title: str, rows: Sequence[tuple[str, int]], what: str = "refunds") -> Markup:
    desc = "; ".join(f"{label}: {count(n)} {what}" for label, n in rows[:12]) or "none"
    return charts.bars(title, desc, [charts.Bar(label, n, count(n)) for label, n in rows])


def _grouped(key: str, title: str, head: str, rows: list[CountRow], word: Callable[[str], str] = str) -> Table:
    total = sum(r.refunds for r in rows)
    return Table(
        key,
        title,
        (head, "Refunds", "Share", "Refunded"),
        [(word(r.key), count(r.refunds), share(r.refunds, total), amounts(r.refunded)) for r in rows],
        frozenset({1, 2, 3}),
        _bars(title, [(word(r.key), r.refunds) for r in rows]) if rows else None,
    )


# --- overview -------------------------------------------------------------------------------


def trend_table(reads: Reads) -> Table:
    found = analytics.trend(reads.conn, reads.where, reads.bucket)
    title = f"Refunds per {reads.bucket}"
    points = [charts.Bar(r.period, r.refunds, f"{count(r.refunds)} refunds") for r in found]
    busiest = max(found, key=lambda r: r.refunds, default=None)
    desc = f"{count(sum(r.refunds for r in found))} refunds over {len(found)} {reads.bucket}s" + (
        f"; the most, {count(busiest.refunds)}, on the {reads.bucket} of {busiest.period}" if busiest else ""
    )
    return Table(
        "trend",
        title,
        ("Day" if reads.bucket == "day" else "Week of", "Refunds", "Refunded"),
        [(r.period, count(r.refunds), amounts(r.refunded)) for r in found],
        frozenset({1, 2}),
        charts.trend(title, desc, points) if any(r.refunds for r in found) else None,
        note="Requested in the period, by the day (UTC) they reached the hub; weeks start on Monday.",
    )


def rate_table(reads: Reads) -> Table:
    counted = {(r.connector, r.store_id): r for r in analytics.refund_rate(reads.conn, reads.where)}
    rows, rated = [], []
    for store in sorted(set(reads.stores) | set(counted)):
        found = counted.get(store)
        refunds = found.refunds if found else 0
        orders = reads.orders.get(store, Counted(None, None)).orders
        rate = refunds / orders if orders else None
        seen = found.orders_with_refunds if found else 0
        shown = (count(orders) if orders is not None else "—", f"{rate:.2%}" if rate is not None else "—")
        rows.append((store[1], store[0], count(refunds), count(seen), *shown))
        if rate is not None:
            rated.append(charts.Bar(store[1], rate, f"{rate:.2%}"))
    title = "Refund rate per store"
    desc = "; ".join(f"{b.label}: {b.text}" for b in rated) or "no platform gave an order count"
    return Table(
        "rate",
        title,
        ("Store", "Platform", "Refunds", "Orders with a refund", "Orders", "Refund rate"),
        rows,
        frozenset({2, 3, 4, 5}),
        charts.bars(title, desc, rated) if rated else None,
        note="Refunds requested in the period ÷ the orders the platform took in it. "
        "“Orders with a refund” is what the hub saw itself.",
        empty="You see no store here.",
    )


MONEY_PARTS = ("Refunded", "Kept: partly approved", "Kept: denied", "Store credit instead", "Still open", "Failed")


def money_table(reads: Reads) -> Table:
    found = analytics.money(reads.conn, reads.where)
    rows, stacks = [], []
    for m in found:
        parts = (m.refunded, m.partial_retained, m.denied, m.store_credit, m.open, m.failed)
        rows.append((m.currency, count(m.refunds), money(m.requested, m.currency),
                     *(money(v, m.currency) for v in parts)))  # fmt: skip
        segments = [charts.Segment(n, v, money(v, m.currency)) for n, v in zip(MONEY_PARTS, parts, strict=True)]
        stacks.append((m.currency, segments))
    title = "Money refunded and kept, per currency"
    desc = "; ".join(f"{money(m.refunded, m.currency)} of {money(m.requested, m.currency)} refunded" for m in found)
    return Table(
        "money",
        title,
        ("Currency", "Refunds", "Asked for", *MONEY_PARTS),
        rows,
        frozenset(range(1, 9)),
        charts.stacked(title, desc or "none", stacks, MONEY_PARTS) if found else None,
        note="Refunded: what reached the customer's payment. Kept: what was asked for and not paid back. "
        "Currencies are never added together.",
    )


# --- reasons and products -------------------------------------------------------------------


def reasons_table(reads: Reads) -> Table:
    return _grouped("reasons", "Refunds by reason", "Reason", reads.reasons, reason_word)


def products_table(reads: Reads) -> Table:
    found = analytics.products(reads.conn, reads.where, limit=20)
    title = "Products refunded most (top 20)"
    return Table(
        "products",
        title,
        ("SKU", "Refunds", "Units"),
        [(p.sku or "(no SKU)", count(p.refunds), count(p.units)) for p in found],
        frozenset({1, 2}),
        _bars(title, [(p.sku or "(no SKU)", p.refunds) for p in found]) if found else None,
        note="Refunds naming the SKU (else the product id) on one of their lines, and the units refunded.",
    )


# --- platforms, gateways, stores ------------------------------------------------------------


def platforms_table(reads: Reads) -> Table:
    rows = analytics.breakdown(reads.conn, reads.where, "platform")
    return _grouped("platforms", "Refunds by platform", "Platform", rows)


def gateways_table(reads: Reads) -> Table:
    rows = analytics.breakdown(reads.conn, reads.where, "gateway")
    table = _grouped("gateways", "Refunds by gateway", "Paid back through", rows, _route_word)
    return replace(table, note="Per payment: a refund split across several payments counts on each.")


def stores_table(reads: Reads) -> Table:
    return _grouped("stores", "Refunds by store", "Store", analytics.breakdown(reads.conn, reads.where, "store"),
                    lambda key: key.partition(":")[2])  # fmt: skip


def _route_word(route: str) -> str:
    if route == "platform":
        return "the platform itself"
    if route == "none":
        return "not yet routed"
    return route.removeprefix("gateway:")


# --- speed, review, rules, fraud, feedback --------------------------------------------------


def timing_table(reads: Reads) -> Table:
    found = analytics.time_to_money(reads.conn, reads.where)
    title = "Time from request to money moved (median)"
    return Table(
        "timing",
        title,
        ("Paid back through", "Payments", "Average", "Median", "90 % within", "Longest"),
        [
            (
                _route_word(t.route),
                count(t.refunds),
                duration(t.average_seconds),
                duration(t.median_seconds),
                duration(t.p90_seconds),
                duration(t.longest_seconds),
            )
            for t in found
        ],  # fmt: skip
        frozenset({1, 2, 3, 4, 5}),
        charts.bars(
            title,
            "; ".join(f"{_route_word(t.route)}: {duration(t.median_seconds)}" for t in found),
            [charts.Bar(_route_word(t.route), t.median_seconds, duration(t.median_seconds)) for t in found],
        )
        if found
        else None,  # fmt: skip
        note="From the request reaching the hub to the gateway or platform taking the refund.",
    )


def review_table(reads: Reads) -> Table:
    r = reads.review
    rows = [("Sent to a person", r.sent_to_review), ("Still waiting", r.waiting), ("Approved", r.approved),
            ("Denied", r.denied)]  # fmt: skip
    title = "Review workload and outcomes"
    return Table(
        "review",
        title,
        ("Refunds the policy sent to a person", "Refunds"),
        [(label, count(n)) for label, n in rows],
        frozenset({1}),
        _bars(title, rows) if r.sent_to_review else None,
    )


def reviewers_table(reads: Reads) -> Table:
    people = reads.review.by_person
    title = "Decisions per reviewer"
    return Table(
        "reviewers",
        title,
        ("Reviewer", "Approved", "Denied", "Decisions"),
        [(who, count(yes), count(no), count(yes + no)) for who, (yes, no) in people.items()],
        frozenset({1, 2, 3}),
        _bars(title, [(who, yes + no) for who, (yes, no) in people.items()], "decisions") if people else None,
    )


def rules_table(reads: Reads) -> Table:
    title = "Policy rules that fired"
    return Table(
        "rules",
        title,
        ("Rule", "Effect", "Refunds"),
        [(h.rule, h.effect, count(h.refunds)) for h in reads.rules],
        frozenset({2}),
        _bars(title, [(f"{h.rule} ({h.effect})", h.refunds) for h in reads.rules]) if reads.rules else None,
        note="Each rule counted once per refund it fired on.",
    )


def fraud_table(reads: Reads) -> Table:
    flags: dict[str, int] = {}
    for hit in reads.rules:
        if hit.rule.startswith(FRAUD_RULES):
            flags[hit.rule] = flags.get(hit.rule, 0) + hit.refunds
    said = sum(r.refunds for r in reads.reasons if r.key == FRAUD_REASON)
    if said:
        flags["reason given: fraud"] = said
    rows = sorted(flags.items(), key=lambda kv: (-kv[1], kv[0]))
    title = "Fraud and abuse flags"
    return Table(
        "fraud",
        title,
        ("Flag", "Refunds"),
        [(flag, count(n)) for flag, n in rows],
        frozenset({1}),
        _bars(title, rows) if rows else None,
        note="The policy's abuse signals (blocklist, velocity, refund-to-order ratio) and refunds asked for as fraud.",
        empty="No refund was flagged in this period.",
    )


def feedback_table(reads: Reads) -> Table:
    found = analytics.feedback_scores(reads.conn, reads.where)
    answers = sum(f.answers for f in found)
    mean = sum(f.rating * f.answers for f in found) / answers if answers else None
    title = "Customer feedback"
    return Table(
        "feedback",
        title,
        ("Rating", "Answers", "Share", "Gave another reason"),
        [(f"{f.rating} of 5", count(f.answers), share(f.answers, answers), count(f.corrected)) for f in found],
        frozenset({1, 2, 3}),
        _bars(title, [(f"{f.rating} of 5", f.answers) for f in found], "answers") if found else None,
        note=f"{count(answers)} answers, {mean:.2f} of 5 on average." if mean is not None else "",
        empty="No customer answered about a refund of this period.",
    )


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    tables: tuple[Callable[[Reads], Table], ...]
    needs_orders: bool = False


SECTIONS = (
    Section("overview", "Overview", (trend_table, money_table, rate_table), needs_orders=True),
    Section("reasons", "Reasons & products", (reasons_table, products_table)),
    Section("channels", "Platforms, gateways & stores", (platforms_table, gateways_table, stores_table)),
    Section("operations", "Speed, review & policy",
            (timing_table, review_table, reviewers_table, rules_table, fraud_table, feedback_table)),
)  # fmt: skip
BY_SLUG = {s.slug: s for s in SECTIONS}
TABLES = {fn.__name__.removesuffix("_table"): (section, fn) for section in SECTIONS for fn in section.tables}
