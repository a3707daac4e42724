"""The analytics rollup: each figure of ``hub.ledger.analytics_figures`` summed per store and day in
``analytics_daily``, read back as exactly what the ledger itself would answer.

Why it is exact: a store-day is read from the rollup only while no change to it is in the log
(``analytics_dirty``). The database's triggers append to that log in the transaction of the change
(migration 0017), so a change is either not yet committed — and invisible to the ledger's read
too — or in the log, and its store-day is read from the ledger. A read takes the log once and uses
that same list to leave those days out of the rollup and to read them from the ledger, so a day
counts once whatever commits in between. Days the period covers only in part are read from the
ledger as well (today, while it lasts, is in the log).

Why it stays exact: the ``analytics`` duty (``refresh``) rebuilds logged store-days from the ledger
and removes their marks in one transaction that sees one snapshot (PostgreSQL ``REPEATABLE READ``;
SQLite has one writer): a change committed after that snapshot keeps its mark. Two rebuilds of the
same day cannot both land — the rollup's primary key refuses the second's rows, and it rolls back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import Select

from hub.db.tables import refunds
from hub.db.tables_analytics import KEYS, VALUES, analytics_daily, analytics_dirty
from hub.ledger.analytics_figures import FIGURES, Figure, Slice, day_of
from hub.ledger.unit import write

a, d, r = analytics_daily.c, analytics_dirty.c, refunds.c
GAP = 7  # logged days this close together are read (and rebuilt) as one range
MOST_RANGES = 60  # more logged ranges than this in a read (a rollup not built yet): the ledger alone
DAYS_PER_REBUILD = 31  # store-days of one store per rebuild transaction: SQLite's write lock stays short
BY = ("connector", "store_id", "day")


@dataclass(frozen=True)
class Days:
    """Days ``first``..``last`` (inclusive) of one store."""

    connector: str
    store_id: str
    first: date
    last: date

    def on_rollup(self, connector: Any, store_id: Any, day: Any) -> ColumnElement[bool]:
        return and_(connector == self.connector, store_id == self.store_id, day >= self.first.isoformat(),
                    day <= self.last.isoformat())  # fmt: skip

    def on_ledger(self) -> ColumnElement[bool]:
        return and_(r.connector == self.connector, r.store_id == self.store_id, r.created_at >= midnight(self.first),
                    r.created_at < midnight(self.last + timedelta(days=1)))  # fmt: skip


def midnight(day: date) -> datetime:
    return datetime.combine(day, clock.min, UTC)


def merge(logged: Iterable[Sequence[str]]) -> list[Days]:
    """(connector, store, ``YYYY-MM-DD``) marks as ranges of days per store, a gap of up to ``GAP``
    days filled (those days are read or rebuilt from the ledger too: never wrong, only slower)."""
    per_store: dict[tuple[str, str], list[date]] = {}
    for connector, store_id, text in logged:
        per_store.setdefault((connector, store_id), []).append(date.fromisoformat(text))
    found = []
    for (connector, store_id), days in sorted(per_store.items()):
        days.sort()
        first = last = days[0]
        for day in days[1:]:
            if (day - last).days > GAP:
                found.append(Days(connector, store_id, first, last))
                first = day
            last = day
        found.append(Days(connector, store_id, first, last))
    return found


def _any(clauses: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*clauses) if clauses else false()


def whole_days(where: Slice) -> tuple[date, date]:
    """The days [first, end) the slice covers whole, in UTC."""
    since, until = (t.astimezone(UTC) if t.tzinfo else t for t in (where.since, where.until))
    first = since.date() if since.time() == clock.min else since.date() + timedelta(days=1)
    return first, until.date()


def summed(conn: Connection, figure: Figure, where: Slice, by: Sequence[str] = ()) -> Select[Any]:
    """``figure`` over the slice: its keys (after the ``by`` columns — any of connector, store_id,
    day) and its sums, from the rollup for the clean whole days and from the ledger for the rest."""
    rows = figure.rows(conn)
    ledger_by = {"connector": r.connector, "store_id": r.store_id, "day": day_of(conn, r.created_at)}
    from_ledger = and_(where.where(parts=figure.parts), rows.where)
    parts: list[Select[Any]] = []
    first, end = whole_days(where)
    if first < end:
        period = (d.day >= first.isoformat(), d.day < end.isoformat())
        logged = conn.execute(select(d.connector, d.store_id, d.day).distinct()
                              .where(where.stores(d.connector, d.store_id), *period))  # fmt: skip
        ranges = merge(logged)
        if len(ranges) <= MOST_RANGES:
            parts.append(
                select(*(a[n].label(n) for n in by),
                       *(a[k].label(n) for k, n in zip(KEYS, figure.keys, strict=False)),
                       *(a[v].label(n) for v, n in zip(VALUES, figure.sums, strict=False)))
                .where(a.figure == figure.name, where.stores(a.connector, a.store_id), a.day >= first.isoformat(),
                       a.day < end.isoformat(), not_(_any([x.on_rollup(a.connector, a.store_id, a.day)
                                                            for x in ranges])))
            )  # fmt: skip
            outside = [r.created_at < midnight(first), r.created_at >= midnight(end)]
            from_ledger = and_(from_ledger, or_(*outside, *(x.on_ledger() for x in ranges)))
    keys = [*(ledger_by[n] for n in by), *rows.keys]
    parts.append(
        select(*(e.label(n) for e, n in zip(keys, [*by, *figure.keys], strict=True)),
               *(e.label(n) for e, n in zip(rows.sums, figure.sums, strict=True)))
        .select_from(rows.source).where(from_ledger).group_by(*keys)
    )  # fmt: skip
    both = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    grouped = [both.c[n] for n in (*by, *figure.keys)]
    return select(*grouped, *(func.sum(both.c[n]).label(n) for n in figure.sums)).group_by(*grouped)


# --- building ---------------------------------------------------------------------------------


def _built(conn: Connection, figure: Figure, where: ColumnElement[bool]) -> Select[Any]:
    """``figure`` per store and day from the ledger, shaped as ``analytics_daily``'s rows."""
    rows = figure.rows(conn)
    day = day_of(conn, r.created_at)
    parent = r.parent_id.is_(None) if not figure.parts else true()
    keys = [*rows.keys, *(literal("") for _ in KEYS[len(rows.keys) :])]
    sums = [*rows.sums, *(literal(0) for _ in VALUES[len(rows.sums) :])]
    return (
        select(literal(figure.name), r.connector, r.store_id, day, *keys, *sums)
        .select_from(rows.source)
        .where(where, parent, rows.where)
        .group_by(r.connector, r.store_id, day, *rows.keys)
    )


def rebuild(conn: Connection, ranges: Sequence[Days]) -> None:
    """The rollup of ``ranges`` made again from the ledger, and their marks removed (one snapshot)."""
    if not ranges:
        return
    conn.execute(delete(analytics_daily).where(_any([x.on_rollup(a.connector, a.store_id, a.day) for x in ranges])))
    columns = ["figure", "connector", "store_id", "day", *KEYS, *VALUES]
    for figure in FIGURES:
        built = _built(conn, figure, _any([x.on_ledger() for x in ranges]))
        conn.execute(insert(analytics_daily).from_select(columns, built))
    conn.execute(delete(analytics_dirty).where(_any([x.on_rollup(d.connector, d.store_id, d.day) for x in ranges])))


@contextmanager
def _one_snapshot(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name != "postgresql":
        with write(engine) as conn:
            yield conn
        return
    with engine.connect() as plain:
        conn = plain.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO off")  # the log survives a lost commit
            yield conn


def refresh(engine: Engine, seconds: float = 30.0) -> int:
    """Rebuild logged store-days, the oldest change's store first, for up to ``seconds``; returns
    the store-days rebuilt (0: the rollup is up to date)."""
    began, rebuilt = time.monotonic(), 0
    while time.monotonic() - began < seconds:
        with _one_snapshot(engine) as conn:
            oldest = conn.execute(select(d.connector, d.store_id).order_by(d.id).limit(1)).first()
            if oldest is None:
                break
            connector, store_id = oldest
            days = conn.execute(
                select(d.day).distinct().where(d.connector == connector, d.store_id == store_id)
                .order_by(d.day).limit(DAYS_PER_REBUILD)
            ).scalars().all()  # fmt: skip
            rebuild(conn, merge((connector, store_id, day) for day in days))
        rebuilt += len(days)
    return rebuilt


def mark_everything(conn: Connection) -> None:
    """Every store-day of the ledger into the log (what migration 0017 does): after a restore that
    bypassed the triggers, the rollup is read from the ledger until rebuilt."""
    day = day_of(conn, r.created_at)
    known = select(r.connector, r.store_id, day).distinct()
    conn.execute(insert(analytics_dirty).from_select(["connector", "store_id", "day"], known))
