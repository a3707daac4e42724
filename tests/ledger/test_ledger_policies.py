"""Published policy versions and drafts on both databases: numbers per store, the newest live,
the configuration's policy until the first publish, snapshots that later edits leave alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.ledger import policies
from hub.ledger.unit import read, write
from hub.policy import PolicyError

ONE = 'version = "one"\n'
TWO = 'version = "two"\n[amounts]\nreview_above = 50\n'


@pytest.fixture
def engine(any_engine: sa.Engine) -> sa.Engine:
    upgrade(any_engine)
    return any_engine


def test_the_configured_policy_until_one_is_published_then_the_newest(engine: sa.Engine) -> None:
    with write(engine) as conn:
        assert policies.published(conn, "sandbox", "s1") is None  # the configuration's decides
        assert policies.seed(conn, "sandbox", "s1", ONE, "one+x")
        assert not policies.seed(conn, "sandbox", "s1", TWO, "two+x")  # version 1 is taken once
        second = policies.publish(conn, "sandbox", "s1", TWO, by="user:ana@example.com", note="lower the limit")
        other = policies.publish(conn, "sandbox", "s2", ONE, by="user:ben@example.com")
    assert (second.number, other.number) == (2, 1)
    with read(engine) as conn:
        live = policies.published(conn, "sandbox", "s1")
        history = policies.versions(conn, "sandbox", "s1")
        assert policies.version(conn, "sandbox", "s1", 1).body == ONE  # type: ignore[union-attr]
    assert live is not None
    assert live.version == policies.policy_of_text(TWO).version
    assert [(v.number, v.source, v.published_by) for v in history] == [
        (2, "console", "user:ana@example.com"),
        (1, "file", "configuration"),
    ]
    assert history[0].label == live.version


def test_two_publishers_cannot_take_the_same_number(engine: sa.Engine) -> None:
    with write(engine) as conn:
        policies.publish(conn, "sandbox", "s1", ONE, by="a")
    with pytest.raises(sa.exc.IntegrityError), write(engine) as conn:
        conn.execute(
            policies.policy_versions.insert().values(
                connector="sandbox",
                store_id="s1",
                number=1,
                body=TWO,
                label="two",
                note="",
                source="console",
                published_by="b",
                published_at=sa.func.now(),
            )
        )


def test_nothing_invalid_is_published(engine: sa.Engine) -> None:
    with pytest.raises(PolicyError, match="not valid TOML"), write(engine) as conn:
        policies.publish(conn, "sandbox", "s1", "version = ", by="a")
    with read(engine) as conn:
        assert policies.versions(conn, "sandbox", "s1") == []


def test_the_shadow_and_the_proposal_are_snapshots_of_the_draft(engine: sa.Engine) -> None:
    with write(engine) as conn:
        assert not policies.start_shadow(conn, "sandbox", "s1", ONE, "a")  # no draft yet
        policies.save_draft(conn, "sandbox", "s1", ONE, "a")
        assert policies.start_shadow(conn, "sandbox", "s1", ONE, "a")
        assert policies.propose(conn, "sandbox", "s1", ONE, by="user:a", user="us_a", note="why")
        policies.save_draft(conn, "sandbox", "s1", TWO, "b")
    with read(engine) as conn:
        draft = policies.draft(conn, "sandbox", "s1")
    assert draft is not None
    assert (draft.body, draft.updated_by) == (TWO, "b")
    assert (draft.shadow_body, draft.proposed_body, draft.proposed_user) == (ONE, ONE, "us_a")
    assert draft.shadow_since is not None
    assert draft.shadow_since.tzinfo is not None
    with write(engine) as conn:
        policies.stop_shadow(conn, "sandbox", "s1")
        policies.clear_proposal(conn, "sandbox", "s1")
        cleared = policies.draft(conn, "sandbox", "s1")
    assert cleared is not None
    assert (cleared.body, cleared.shadow_body, cleared.proposed_body) == (TWO, None, None)
