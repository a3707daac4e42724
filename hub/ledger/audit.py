"""The append-only audit trail (the database refuses UPDATE and DELETE on it), hash-chained per store.

Secrets and personal data never reach it (``hub.ledger.scrub``): fields that hold them are
replaced and credentials in texts masked before anything is written; ids stay as they are.

Each entry belongs to its store's chain (the refund's store, else the delivery's, else a
``store_id`` in the detail, else the hub's own chain ``-``) and carries the hash of the chain's
previous entry (``hub.ledger.audit_chain``). The chain's head row is locked for the write
(``FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway) and a unique (chain, seq) index
backs it up: two writers can never fork a chain. Entries written before the chain existed stay
unchained; ``verify`` says how many and refuses any unchained entry written after.

The entry is also where refund events leave the hub: ``webhook_events.fan_out`` writes the
outgoing webhook messages in this same transaction, so a merchant hears of a change exactly
when it is committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from hub.db.tables import audit, deliveries, refunds
from hub.db.tables_outgoing import audit_chains
from hub.db.upsert import insert_ignore
from hub.ledger import webhook_events
from hub.ledger.audit_chain import GENESIS, HUB_CHAIN, ChainCheck, check_run, digest, normalized, stamp
from hub.ledger.scrub import scrub


def write(
    conn: Connection,
    actor: str,
    action: str,
    *,
    refund_id: str | None = None,
    delivery_id: str | None = None,
    **detail: Any,
) -> None:
    clean = normalized(scrub(detail))
    chain = chain_of(conn, refund_id, delivery_id, clean)
    seq, prev_hash = _lock_head(conn, chain)
    at = datetime.now(UTC)
    entry = {
        "chain": chain,
        "seq": seq + 1,
        "prev_hash": prev_hash,
        "at": stamp(at),
        "actor": actor,
        "action": action,
        "refund_id": refund_id,
        "delivery_id": delivery_id,
        "detail": clean,
    }
    entry["hash"] = digest(entry)
    audit_id = conn.execute(_INSERT, {**entry, "at": at}).scalar_one()
    conn.execute(_ADVANCE, {"b_chain": chain, "b_seq": entry["seq"], "b_head": entry["hash"], "b_at": at})
    webhook_events.fan_out(conn, {**entry, "id": audit_id})


_INSERT = insert(audit).returning(audit.c.id)  # values travel as parameters: one statement, compiled once
_HEAD = (
    select(audit_chains.c.seq, audit_chains.c.head).where(audit_chains.c.chain == bindparam("chain")).with_for_update()
)
_ADVANCE = (
    update(audit_chains)
    .where(audit_chains.c.chain == bindparam("b_chain"))
    .values(seq=bindparam("b_seq"), head=bindparam("b_head"), updated_at=bindparam("b_at"))
)
_REFUND_STORE = select(refunds.c.store_id).where(refunds.c.id == bindparam("id"))
_DELIVERY_STORE = select(deliveries.c.store_id).where(deliveries.c.id == bindparam("id"))


def chain_of(conn: Connection, refund_id: str | None, delivery_id: str | None, detail: dict[str, Any]) -> str:
    """The chain an entry belongs to: its store's id (``HUB_CHAIN`` for none)."""
    store = conn.execute(_REFUND_STORE, {"id": refund_id}).scalar() if refund_id else None
    if store is None and delivery_id:
        store = conn.execute(_DELIVERY_STORE, {"id": delivery_id}).scalar()
    if store is None and isinstance(detail.get("store_id"), str):
        store = detail["store_id"]
    return str(store) if store else HUB_CHAIN


def _lock_head(conn: Connection, chain: str) -> tuple[int, str]:
    """The chain's newest (seq, hash), its row locked until this transaction ends."""
    row = conn.execute(_HEAD, {"chain": chain}).first()
    if row is None:
        fresh = {"chain": chain, "seq": 0, "head": GENESIS, "updated_at": datetime.now(UTC)}
        insert_ignore(conn, audit_chains, fresh, conflict=("chain",))
        row = conn.execute(_HEAD, {"chain": chain}).one()
    return int(row.seq), str(row.head)


# --- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Every chain checked, and what came before the chain (``unchained``: entries written
    before the hub chained its audit trail; they are listed, not proven)."""

    chains: list[ChainCheck]
    unchained: int
    unchained_last_id: int | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.chains)


def chains(conn: Connection) -> list[str]:
    found = {r[0] for r in conn.execute(select(audit_chains.c.chain))}
    found |= {r[0] for r in conn.execute(select(audit.c.chain).where(audit.c.chain.is_not(None)).distinct())}
    return sorted(found)


def entries(
    conn: Connection, chain: str, first_seq: int | None = None, last_seq: int | None = None
) -> Iterator[dict[str, Any]]:
    """A chain's entries in chain order, as the chain hashes them (``at`` stamped), streamed."""
    query = select(audit).where(audit.c.chain == chain).order_by(audit.c.seq)
    if first_seq is not None:
        query = query.where(audit.c.seq >= first_seq)
    if last_seq is not None:
        query = query.where(audit.c.seq <= last_seq)
    for row in conn.execution_options(yield_per=1000).execute(query):
        entry = dict(row._mapping)
        entry["at"] = stamp(entry["at"])
        yield entry


def period(conn: Connection, chain: str, since: datetime, until: datetime) -> tuple[int, int] | None:
    """The (first, last) seq of a chain's entries written in [since, until): an export is always
    a contiguous run, so it links from one entry to the next without a gap."""
    first, last = conn.execute(
        select(func.min(audit.c.seq), func.max(audit.c.seq)).where(
            audit.c.chain == chain, audit.c.at >= since, audit.c.at < until
        )
    ).one()
    return (int(first), int(last)) if first is not None else None


def head(conn: Connection, chain: str) -> tuple[int, str] | None:
    row = conn.execute(select(audit_chains.c.seq, audit_chains.c.head).where(audit_chains.c.chain == chain)).first()
    return (int(row.seq), str(row.head)) if row is not None else None


def verify(conn: Connection, chain: str | None = None) -> Verification:
    """Check each chain from its first entry to its head: a changed, removed or reordered
    entry, or a chain cut short, is a problem."""
    checks = []
    for name in [chain] if chain is not None else chains(conn):
        check = check_run(name, entries(conn, name))
        recorded = head(conn, name)
        if recorded is None:
            check.problems.append("the chain has no head (its head row was removed)")
        elif recorded != (check.last_seq or 0, check.last_hash or GENESIS):
            check.problems.append(
                f"the chain's head is entry {recorded[0]} but its entries end at {check.last_seq or 0} "
                "(entries at the end were removed)"
            )
        checks.append(check)
    return Verification(checks, *_unchained(conn))


def _unchained(conn: Connection) -> tuple[int, int | None, list[str]]:
    """Entries without a chain: fine before the first chained one, a problem after it."""
    first_chained = conn.execute(select(func.min(audit.c.id)).where(audit.c.chain.is_not(None))).scalar()
    count, last_id = conn.execute(select(func.count(), func.max(audit.c.id)).where(audit.c.chain.is_(None))).one()
    problems = []
    if first_chained is not None and last_id is not None and last_id > first_chained:
        late = conn.execute(
            select(func.count()).where(audit.c.chain.is_(None), audit.c.id > first_chained)
        ).scalar_one()
        problems.append(f"{late} unchained entries were written after the chain began (inserted by hand?)")
    return int(count), last_id, problems
