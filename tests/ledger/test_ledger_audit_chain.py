"""The audit trail is hash-chained per store: verify proves nothing was changed, removed or
reordered, on SQLite and PostgreSQL alike, and concurrent writers never fork a chain."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import audit
from hub.db.tables_outgoing import audit_chains
from hub.ledger import audit as trail
from hub.ledger import refunds as ledger
from hub.ledger import states
from hub.ledger.audit_chain import GENESIS, HUB_CHAIN, digest
from tests.ledger.conftest import request


@pytest.fixture
def db(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


def open_refund(conn: sa.Connection, source_ref: str, store_id: str = "s1") -> str:
    return ledger.open_refund(conn, request(source_ref, store_id=store_id), kind="requested", state=states.REQUESTED)[0]


def allow_tampering(engine: sa.Engine) -> None:
    """What someone with the database's owner rights can do: lift the append-only triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_no_change ON audit"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_no_delete"))


def seeded(engine: sa.Engine, count: int = 5) -> list[int]:
    """``count`` entries about one refund of store s1; their ids."""
    with engine.begin() as conn:
        refund_id = open_refund(conn, "rq-1")
        for n in range(count):
            trail.write(conn, "worker", "noted", refund_id=refund_id, n=n, note=f"step {n}")
        return [r[0] for r in conn.execute(sa.select(audit.c.id).where(audit.c.chain == "s1").order_by(audit.c.seq))]


def problems(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        result = trail.verify(conn)
    return [p for c in result.chains for p in c.problems] + result.problems


def test_each_store_has_its_own_chain_linked_by_hashes(db: sa.Engine) -> None:
    with db.begin() as conn:
        first, second = open_refund(conn, "rq-1", "s1"), open_refund(conn, "rq-2", "s2")
        trail.write(conn, "worker", "requested", refund_id=first, amount=1000)
        trail.write(conn, "worker", "requested", refund_id=second, amount=500)
        trail.write(conn, "worker", "noted", refund_id=first, note="again")
        trail.write(conn, "janitor", "poll_failed", store_id="s2", connector="sandbox", error="down")
        trail.write(conn, "cli", "replayed")
    with db.connect() as conn:
        rows = conn.execute(sa.select(audit).order_by(audit.c.id)).all()
        result = trail.verify(conn)
    assert [(r.chain, r.seq) for r in rows] == [("s1", 1), ("s2", 1), ("s1", 2), ("s2", 2), (HUB_CHAIN, 1)]
    assert rows[0].prev_hash == GENESIS
    assert rows[2].prev_hash == rows[0].hash
    assert rows[3].prev_hash == rows[1].hash
    assert result.ok, problems(db)
    assert {c.chain: (c.entries, c.last_hash) for c in result.chains} == {
        "s1": (2, rows[2].hash),
        "s2": (2, rows[3].hash),
        HUB_CHAIN: (1, rows[4].hash),
    }


def test_the_stored_hash_is_the_hash_of_what_is_read_back(db: sa.Engine) -> None:
    with db.begin() as conn:
        trail.write(conn, "worker", "noted", store_id="s1", values=(1, 2.5, None), nested={"b": 1, "a": [True]})
    with db.connect() as conn:
        [entry] = list(trail.entries(conn, "s1"))
    assert entry["detail"] == {"store_id": "s1", "values": [1, 2.5, None], "nested": {"b": 1, "a": [True]}}
    assert digest(entry) == entry["hash"]


def test_verify_fails_on_an_edited_entry(db: sa.Engine) -> None:
    ids = seeded(db)
    assert problems(db) == []
    allow_tampering(db)
    with db.begin() as conn:
        conn.execute(sa.update(audit).where(audit.c.id == ids[2]).values(detail={"n": 2, "note": "nothing to see"}))
    assert problems(db) == [f"entry 3 (id {ids[2]}) was changed after it was written"]


def test_verify_fails_on_an_edited_actor_even_with_the_detail_untouched(db: sa.Engine) -> None:
    ids = seeded(db)
    allow_tampering(db)
    with db.begin() as conn:
        conn.execute(sa.update(audit).where(audit.c.id == ids[0]).values(actor="admin:someone-else"))
    assert problems(db) == [f"entry 1 (id {ids[0]}) was changed after it was written"]


def test_verify_fails_on_a_deleted_entry(db: sa.Engine) -> None:
    ids = seeded(db)
    allow_tampering(db)
    with db.begin() as conn:
        conn.execute(sa.delete(audit).where(audit.c.id == ids[1]))
    found = problems(db)
    assert "entries 2..2 are missing (removed)" in found
    assert f"entry 3 (id {ids[2]}) does not link to the entry before it" in found


def test_verify_fails_when_the_newest_entries_are_deleted(db: sa.Engine) -> None:
    ids = seeded(db)
    allow_tampering(db)
    with db.begin() as conn:
        conn.execute(sa.delete(audit).where(audit.c.id.in_(ids[-2:])))
    assert problems(db) == ["the chain's head is entry 5 but its entries end at 3 (entries at the end were removed)"]


def test_verify_fails_on_reordered_entries(db: sa.Engine) -> None:
    """Two entries swap places, whole (chain fields and all) or only what they say."""
    ids = seeded(db)
    allow_tampering(db)
    columns = [c for c in audit.columns if c.name != "id"]
    with db.begin() as conn:
        a, b = (conn.execute(sa.select(*columns).where(audit.c.id == i)).one()._asdict() for i in ids[1:3])
        conn.execute(sa.delete(audit).where(audit.c.id.in_(ids[1:3])))  # the unique (chain, seq) index
        conn.execute(sa.insert(audit).values(id=ids[1], **b))
        conn.execute(sa.insert(audit).values(id=ids[2], **a))
    assert problems(db) == [f"entry 3 (id {ids[1]}) is out of order (reordered)"]  # seq 3 now sits before seq 2


def test_verify_fails_on_entries_whose_contents_swapped(db: sa.Engine) -> None:
    ids = seeded(db)
    allow_tampering(db)
    said = [audit.c.at, audit.c.actor, audit.c.action, audit.c.detail]
    with db.begin() as conn:
        a, b = (conn.execute(sa.select(*said).where(audit.c.id == i)).one()._asdict() for i in ids[1:3])
        conn.execute(sa.update(audit).where(audit.c.id == ids[1]).values(**b))
        conn.execute(sa.update(audit).where(audit.c.id == ids[2]).values(**a))
    assert problems(db) == [
        f"entry 2 (id {ids[1]}) was changed after it was written",
        f"entry 3 (id {ids[2]}) was changed after it was written",
    ]


def test_the_triggers_still_refuse_changes_after_the_migration(db: sa.Engine) -> None:
    seeded(db, 1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin() as conn:
        conn.execute(sa.update(audit).values(actor="x"))


def test_entries_from_before_the_chain_are_reported_and_late_unchained_ones_refused(db: sa.Engine) -> None:
    legacy = {"at": sa.func.now(), "actor": "worker", "action": "requested", "detail": {}}
    with db.begin() as conn:
        conn.execute(sa.insert(audit).values(**legacy))  # as 0001..0007 wrote them: no chain
        conn.execute(sa.insert(audit).values(**legacy))
    seeded(db, 2)
    with db.connect() as conn:
        result = trail.verify(conn)
    assert result.ok
    assert result.unchained == 2
    assert result.unchained_last_id == 2
    with db.begin() as conn:
        conn.execute(sa.insert(audit).values(**legacy))
    assert problems(db) == ["1 unchained entries were written after the chain began (inserted by hand?)"]


def test_a_removed_head_row_is_a_problem(db: sa.Engine) -> None:
    seeded(db, 2)
    with db.begin() as conn:
        conn.execute(sa.delete(audit_chains))
    assert problems(db) == ["the chain has no head (its head row was removed)"]


def test_concurrent_writers_never_fork_a_chain(db: sa.Engine) -> None:
    """Writers in parallel transactions on one store: one contiguous chain, every link intact."""
    with db.begin() as conn:
        refund_id = open_refund(conn, "rq-1")
    writers, each = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def run(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with db.begin() as conn:
                    trail.write(conn, f"worker-{n}", "noted", refund_id=refund_id, i=i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.connect() as conn:
        seqs = [r[0] for r in conn.execute(sa.select(audit.c.seq).where(audit.c.chain == "s1").order_by(audit.c.seq))]
        result = trail.verify(conn)
    assert seqs == list(range(1, writers * each + 1))
    assert result.ok, problems(db)
