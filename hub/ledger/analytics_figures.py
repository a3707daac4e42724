"""What each rolled-up analytics figure is, in SQL over the ledger: its rows (refunds, the lines or
rules in their JSON, ``reviewed`` audit entries, feedback), its keys and its sums. The rollup
(``hub.ledger.analytics_rollup``) builds ``analytics_daily`` from these per store and day and reads
the changed store-days through them, so a rolled-up figure and the ledger cannot disagree: there is
one definition of each.

Sums add across days because every row of a figure belongs to one refund, and every refund to one
store and one day (its request's, UTC): a count of distinct refunds per day adds up to the count of
distinct refunds of the period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, String, and_, case, cast, column, distinct, func, true
from sqlalchemy.sql import FromClause

from hub.db.tables import audit, refunds
from hub.db.tables_customer import feedback
from hub.ledger import states
from hub.ledger.people import ALL_STORES, StoreScope

r = refunds.c


@dataclass(frozen=True)
class Slice:
    """Which refunds a figure is about: requested in [since, until), within ``scope``."""

    since: datetime
    until: datetime
    scope: StoreScope = ALL_STORES
    store_id: str | None = None
    connector: str | None = None  # the platform

    def where(self, *, parts: bool = False) -> ColumnElement[bool]:
        clauses = [self.stores(r.connector, r.store_id), r.created_at >= self.since, r.created_at < self.until]
        if not parts:
            clauses.append(r.parent_id.is_(None))
        return and_(*clauses)

    def stores(self, connector: Any, store_id: Any) -> ColumnElement[bool]:
        """The slice's stores over any table's connector and store columns."""
        clauses = [self.scope.clause(connector, store_id)]
        if self.store_id:
            clauses.append(store_id == self.store_id)
        if self.connector:
            clauses.append(connector == self.connector)
        return and_(*clauses)


def day_of(conn: Connection, created: Any) -> ColumnElement[Any]:
    """The UTC day (``YYYY-MM-DD``) of a request time, as the rollup's triggers write it (migration
    0017). On SQLite the text's date part: ``date()`` of the whole text rounds ``…59.9999995`` up."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", created), "YYYY-MM-DD")
    return func.substr(created, 1, 10)


def reason() -> ColumnElement[Any]:
    return func.coalesce(r.request["reason"].as_string(), "other")


def decided(key: str) -> ColumnElement[Any]:
    return r.decision[("decision", key)].as_string()


def refunded_amount() -> ColumnElement[Any]:
    """What reached the customer's payment, per row (see ``hub.ledger.analytics``)."""
    return case(
        (r.state.in_(states.SUCCESSES), func.coalesce(r.approved_amount, r.amount)),
        (and_(r.state == states.RECORDED, r.money_moved), r.amount),
        else_=0,
    )


def elements(conn: Connection, path: str) -> Any:
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
class Rows:
    """A figure's rows: where they come from, which of them count, their keys (each a non-null
    text) and their sums (aggregates), in the order of the figure's names."""

    source: FromClause
    where: ColumnElement[bool]
    keys: tuple[ColumnElement[Any], ...]
    sums: tuple[ColumnElement[Any], ...]


@dataclass(frozen=True)
class Figure:
    name: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    rows: Callable[[Connection], Rows]
    parts: bool = False  # the parts of split refunds counted too (money per payment)


def _paid_back() -> tuple[ColumnElement[Any], ...]:
    return func.count(), func.sum(refunded_amount())


def _totals(conn: Connection) -> Rows:
    offered = func.coalesce(r.decision[("decision", "amount")].as_integer(), r.amount)
    return Rows(
        refunds,
        true(),
        (r.currency, r.state, func.coalesce(decided("action"), ""), func.coalesce(decided("alternative"), "")),
        (*_paid_back(), func.sum(r.amount), func.sum(r.amount - func.coalesce(r.approved_amount, r.amount)),
         func.sum(offered)),
    )  # fmt: skip


def _routes(conn: Connection) -> Rows:
    """Per payment: a refund split across tenders counts on each of its parts' routes."""
    return Rows(refunds, r.route != "tenders", (func.coalesce(r.route, "none"), r.currency), _paid_back())


def _reasons(conn: Connection) -> Rows:
    return Rows(refunds, true(), (reason(), r.currency), _paid_back())


def _products(conn: Connection) -> Rows:
    lines = elements(conn, "request.lines")
    sku = func.coalesce(lines.c.value["sku"].as_string(), lines.c.value["product_id"].as_string(), "")
    units = func.coalesce(func.sum(lines.c.value["quantity"].as_integer()), 0)
    return Rows(refunds.join(lines, true()), true(), (sku,), (func.count(distinct(r.id)), units))


def _rules(conn: Connection) -> Rows:
    hits = elements(conn, "decision.decision.rules")
    rule, effect = (func.coalesce(hits.c.value[key].as_string(), "") for key in ("rule", "effect"))
    return Rows(refunds.join(hits, true()), r.decision.is_not(None), (rule, effect), (func.count(distinct(r.id)),))


def _reviewers(conn: Connection) -> Rows:
    verdict = func.coalesce(audit.c.detail["state"].as_string(), "")
    return Rows(audit.join(refunds, r.id == audit.c.refund_id), audit.c.action == "reviewed",
                (audit.c.actor, verdict), (func.count(distinct(audit.c.refund_id)),))  # fmt: skip


def _feedback(conn: Connection) -> Rows:
    f = feedback.c
    return Rows(feedback.join(refunds, r.id == f.refund_id), true(), (cast(f.rating, String),),
                (func.count(), func.count(f.reason)))  # fmt: skip


TOTALS = Figure("totals", ("currency", "state", "action", "alternative"),
                ("refunds", "refunded", "requested", "kept", "offered"), _totals)  # fmt: skip
ROUTES = Figure("routes", ("route", "currency"), ("refunds", "refunded"), _routes, parts=True)
REASONS = Figure("reasons", ("reason", "currency"), ("refunds", "refunded"), _reasons)
PRODUCTS = Figure("products", ("sku",), ("refunds", "units"), _products)
RULES = Figure("rules", ("rule", "effect"), ("refunds",), _rules)
REVIEWERS = Figure("reviewers", ("actor", "verdict"), ("refunds",), _reviewers)
FEEDBACK = Figure("feedback", ("rating",), ("answers", "corrected"), _feedback)
FIGURES = (TOTALS, ROUTES, REASONS, PRODUCTS, RULES, REVIEWERS, FEEDBACK)
