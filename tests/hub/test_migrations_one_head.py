"""Branches built side by side are joined by a merge revision before they land, so a deployment's
``upgrade`` has one newest revision to reach and the next migration one parent to name."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from hub.db.migrate import alembic_config


def test_the_migrations_have_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://"))).get_heads()
    assert len(heads) == 1, f"join these with a merge revision: {sorted(heads)}"


def test_every_revision_id_fits_alembics_version_column() -> None:
    script = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://")))
    too_long = [r.revision for r in script.walk_revisions() if len(r.revision) > 32]  # alembic_version VARCHAR(32)
    assert too_long == []
