"""hub.ledger.claims: who holds a refund now. An execution, a write-back and a resolution each
have one owner at a time and a lease in the future that a dead owner's successor waits out
(docs/architecture.md, invariants 1 and 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.ledger import claims, states
from hub.ledger import refunds as ledger
from tests.ledger.conftest import approved, force, get

LEASE = timedelta(seconds=300)


def test_claim_takes_an_approved_refund_with_a_lease_in_the_future(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        force(conn, refund_id, last_error="earlier")
        started = ledger.now()
        assert claims.claim(conn, refund_id, LEASE) is True
        row = get(conn, refund_id)
        assert row.state == states.EXECUTING
        assert row.attempts == 1
        assert row.last_error is None
        assert row.lease_until is not None
        assert started + LEASE <= row.lease_until <= ledger.now() + LEASE
        assert claims.expired_executions(conn, ledger.now()) == []  # the lease has not run out
        assert claims.expired_executions(conn, row.lease_until + timedelta(seconds=1)) == [refund_id]
        assert claims.claim(conn, refund_id, LEASE) is False  # one worker at a time


def test_claim_takes_an_unknown_refund_again_but_nothing_else(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        assert claims.claim(conn, refund_id, LEASE)
        assert ledger.transition(conn, refund_id, states.UNKNOWN, expect=states.EXECUTING)
        assert claims.claim(conn, refund_id, LEASE) is True  # the re-send, with the same key
        assert get(conn, refund_id).attempts == 2
        for state in ("requested", "review", "pending", "succeeded"):
            force(conn, refund_id, state=state)
            assert claims.claim(conn, refund_id, LEASE) is False


def test_write_back_claim_is_one_owner_under_a_lease(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        assert claims.claim_write_back(conn, refund_id, LEASE) is None  # not succeeded yet
        force(conn, refund_id, state=states.SUCCEEDED)
        claimed = claims.claim_write_back(conn, refund_id, LEASE)
        assert claimed is not None
        assert claimed.id == refund_id
        assert claimed.writeback_lease_until is not None
        assert claimed.writeback_lease_until > ledger.now() + LEASE - timedelta(seconds=5)
        assert claims.claim_write_back(conn, refund_id, LEASE) is None  # held
        force(conn, refund_id, writeback_lease_until=ledger.now() - timedelta(seconds=1))
        assert claims.claim_write_back(conn, refund_id, LEASE) is not None  # the lease ran out
        claims.release_write_back(conn, refund_id)
        assert get(conn, refund_id).writeback_lease_until is None
        assert claims.claim_write_back(conn, refund_id, LEASE) is not None  # released: at once


def test_release_write_back_leaves_other_states_alone(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        lease = ledger.now() + LEASE
        force(conn, refund_id, state=states.WRITTEN_BACK, writeback_lease_until=lease)
        claims.release_write_back(conn, refund_id)
        assert get(conn, refund_id).writeback_lease_until is not None


@pytest.mark.parametrize("state", [states.PENDING, states.UNKNOWN])
def test_one_resolver_at_a_time(engine: sa.Engine, state: str) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        force(conn, refund_id, state=state)
        assert claims.claim_resolution(conn, refund_id, states.EXECUTING, LEASE) is False  # wrong state
        assert claims.claim_resolution(conn, refund_id, state, LEASE) is True
        lease = get(conn, refund_id).lease_until
        assert lease is not None
        assert lease > ledger.now() + LEASE - timedelta(seconds=5)
        assert claims.claim_resolution(conn, refund_id, state, LEASE) is False
        force(conn, refund_id, lease_until=ledger.now() - timedelta(seconds=1))
        assert claims.claim_resolution(conn, refund_id, state, LEASE) is True  # the hold ran out
        claims.release_resolution(conn, refund_id)
        assert get(conn, refund_id).lease_until is None
        assert claims.claim_resolution(conn, refund_id, state, LEASE) is True


def test_release_resolution_keeps_the_lease_of_a_refund_that_moved_on(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        assert claims.claim(conn, refund_id, LEASE)
        claims.release_resolution(conn, refund_id)
        assert get(conn, refund_id).lease_until is not None


def test_expired_executions_are_only_executing_ones(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        dead = approved(conn, "rq-1")
        alive = approved(conn, "rq-2")
        other = approved(conn, "rq-3")
        past, future = ledger.now() - timedelta(seconds=1), ledger.now() + LEASE
        force(conn, dead, state=states.EXECUTING, lease_until=past)
        force(conn, alive, state=states.EXECUTING, lease_until=future)
        force(conn, other, state=states.PENDING, lease_until=past)
        assert claims.expired_executions(conn, ledger.now()) == [dead]


# A lease runs through its last instant: a claim at exactly ``lease_until`` still finds it held.


def test_a_write_back_lease_holds_through_its_last_instant(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ledger.now()
    monkeypatch.setattr(claims, "now", lambda: at)
    with engine.begin() as conn:
        refund_id = approved(conn)
        force(conn, refund_id, state=states.SUCCEEDED, writeback_lease_until=at)
        assert claims.claim_write_back(conn, refund_id, LEASE) is None
        force(conn, refund_id, writeback_lease_until=at - timedelta(microseconds=1))
        claimed = claims.claim_write_back(conn, refund_id, LEASE)
        assert claimed is not None
        assert claimed.writeback_lease_until == at + LEASE


def test_a_resolution_lease_holds_through_its_last_instant(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    at = ledger.now()
    monkeypatch.setattr(claims, "now", lambda: at)
    with engine.begin() as conn:
        refund_id = approved(conn)
        force(conn, refund_id, state=states.PENDING, lease_until=at)
        assert claims.claim_resolution(conn, refund_id, states.PENDING, LEASE) is False
        force(conn, refund_id, lease_until=at - timedelta(microseconds=1))
        assert claims.claim_resolution(conn, refund_id, states.PENDING, LEASE) is True
        assert get(conn, refund_id).lease_until == at + LEASE


def test_an_execution_lease_expires_only_after_its_last_instant(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        refund_id = approved(conn)
        lease = ledger.now() + LEASE
        force(conn, refund_id, state=states.EXECUTING, lease_until=lease)
        assert claims.expired_executions(conn, lease) == []
        assert claims.expired_executions(conn, lease + timedelta(microseconds=1)) == [refund_id]
