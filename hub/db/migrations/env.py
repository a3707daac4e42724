"""Alembic environment: runs against the connection the hub hands it (or the URL in the config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub.db.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
        with engine.begin() as connection:
            _configure_and_run(connection)
    else:
        _configure_and_run(connection)


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    # batch mode ("move and copy") lets the same scripts alter tables on SQLite
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
