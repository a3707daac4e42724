"""``serve`` prepares the database once (schema and the configuration's stores) and its web workers
bootstrap with ``migrate=False``: they neither migrate nor re-seal the stores' credentials, which is
what kept ``cryptography`` in every web worker (issue 18)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from hub.cli.starter import PORTS, STORE, write_starter
from hub.db.engine import make_engine
from hub.db.migrate import upgrade
from hub.db.tables import stores
from hub.runtime.bootstrap import bootstrap, prepare_database, write_key_file
from hub.runtime.config import Config, load_config


def _starter(tmp_path: Path) -> Config:
    path = tmp_path / "refund-hub.toml"
    write_starter(path, hub_port=1, ports={name: 2 + i for i, name in enumerate(PORTS)})
    config = load_config(path, env={})
    write_key_file(config.hub.instance_path)
    return config


def _stored(config: Config) -> list[tuple[str, str]]:
    with make_engine(config.hub.db_url).connect() as conn:
        return sorted((row.connector, row.store_id) for row in conn.execute(select(stores)))


def test_prepare_database_writes_the_configured_stores_and_bootstrap_without_migrate_leaves_them(
    tmp_path: Path,
) -> None:
    config = _starter(tmp_path)
    upgrade(make_engine(config.hub.db_url))
    hub = bootstrap(config, migrate=False)
    assert _stored(config) == []  # a web worker of serve: the stores are serve's to write
    assert "_fernet" not in vars(hub.box)  # no secret sealed or opened
    prepare_database(config)
    assert ("shopify", STORE) in _stored(config)
    assert hub.stores["shopify"].get(STORE) is not None  # sealed by one box, opened by another


def test_bootstrap_with_migrate_prepares_the_database_itself(tmp_path: Path) -> None:
    config = _starter(tmp_path)
    bootstrap(config)
    assert ("shopify", STORE) in _stored(config)
