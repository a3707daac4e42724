"""``bootstrap()`` wires one running hub: config, database, secrets, plugins, stores, policies.

The web app, the worker and the CLI all start from here; tests pass fakes for any part
(connector/gateway instances or classes, an engine, a dispatcher) and production fills the
gaps from entry points and the configuration. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Engine

from hub.contracts import Connector, Gateway
from hub.db.engine import make_engine
from hub.db.migrate import upgrade
from hub.errors import ConfigError, PluginError
from hub.ledger import policies
from hub.ledger.stores import DbStores, sync_config_stores
from hub.ledger.unit import read
from hub.people.accounts import Accounts
from hub.runtime import plugins
from hub.runtime.config import Config
from hub.runtime.crypto import SecretBox

if TYPE_CHECKING:
    from hub.policy import Policy

log = logging.getLogger(__name__)
KEY_FILE = "secret-keys"
_Plugin = TypeVar("_Plugin", Connector, Gateway)


class Dispatcher(Protocol):
    """Wakes workers up; the database holds the actual work (``hub.work.jobs``)."""

    def wake(self) -> None: ...


class NoDispatch:
    """For processes that only write jobs and let the janitor or a test drain them."""

    def wake(self) -> None:
        pass


@dataclass
class Hub:
    config: Config
    engine: Engine
    box: SecretBox
    connectors: dict[str, Connector]
    gateways: dict[str, Gateway]
    stores: dict[str, DbStores]
    policies: dict[str, Policy]
    dispatcher: Dispatcher = field(default_factory=NoDispatch)

    @cached_property
    def accounts(self) -> Accounts:
        """People, their grants and tokens (the console and the JSON API ask who is asking)."""
        return Accounts(self.engine, self.box)

    def policy_for(self, connector: str, store_id: str) -> Policy:
        """The store's live policy: its newest version published in the console, else the one
        the configuration names (docs/policy.md, "Editing from the console")."""
        with read(self.engine) as conn:
            published = policies.published(conn, connector, store_id)
        return published or self.configured_policy(connector, store_id)

    def configured_policy(self, connector: str, store_id: str) -> Policy:
        name = self.stores[connector].policy_name(store_id) or "default"
        return self.policies.get(name) or self.policies["default"]


def secret_keys(config: Config) -> list[str]:
    """Keys from the environment/config, else the instance key file ``refund-hub init`` wrote."""
    if config.hub.secret_keys:
        return config.hub.secret_keys
    key_file = config.hub.instance_path / KEY_FILE
    if key_file.exists():
        return [k.strip() for k in key_file.read_text().split(",") if k.strip()]
    raise ConfigError("hub.secret_keys", "set REFUND_HUB_SECRET_KEYS (or run `refund-hub init` for a local key file)")


def write_key_file(instance: Path) -> Path:
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / KEY_FILE
    if not path.exists():
        path.write_text(SecretBox.generate_key())
        path.chmod(0o600)
    return path


def load_policies(config: Config) -> dict[str, Policy]:
    from hub.policy import DEFAULT_POLICY, load_policy

    base = Path(config.source).parent if config.source else Path.cwd()
    loaded: dict[str, Policy] = {"default": DEFAULT_POLICY}
    for name, table in config.policies.items():
        source: Path | Mapping[str, Any] = table
        if set(table) == {"file"}:
            path = Path(table["file"])
            source = path if path.is_absolute() else base / path
        loaded[name] = load_policy(source)
    return loaded


def _instances(
    kind: str,
    wanted: Mapping[str, str],
    given: Mapping[str, _Plugin | type[_Plugin]] | None,
    make: Callable[[str, type[_Plugin]], _Plugin],
) -> dict[str, _Plugin]:
    """Instances for every configured name: injected ones first, the rest from entry points."""
    given = dict(given or {})
    group = plugins.CONNECTORS if kind == "connector" else plugins.GATEWAYS
    classes = plugins.load(group, sorted({spec for name, spec in wanted.items() if name not in given}))
    out: dict[str, _Plugin] = {}
    for name, spec in wanted.items():
        item = given[name] if name in given else classes[spec]
        out[name] = make(name, item) if isinstance(item, type) else item
    for name in given:
        if name not in out:
            raise PluginError(f"{kind} {name!r} was given but is not configured")
    return out


def prepare_database(config: Config, engine: Engine | None = None) -> Engine:
    """The database made ready for every process of a hub: its schema brought up to date and the
    stores the configuration declares written (their credentials sealed, hence ``cryptography``).
    ``serve`` does it once before it starts the web tier, whose workers then skip it."""
    engine = engine or make_engine(config.hub.db_url)
    upgrade(engine)
    sync_config_stores(config, engine, SecretBox(secret_keys(config)))
    return engine


def bootstrap(
    config: Config,
    *,
    connectors: Mapping[str, Connector | type[Connector]] | None = None,
    gateways: Mapping[str, Gateway | type[Gateway]] | None = None,
    engine: Engine | None = None,
    dispatcher: Dispatcher | None = None,
    migrate: bool = True,
) -> Hub:
    """``migrate=False``: whoever started this process prepared the database
    (``prepare_database``), as ``serve`` does for its web workers."""
    engine = engine or make_engine(config.hub.db_url)
    box = SecretBox(secret_keys(config))
    if migrate:
        prepare_database(config, engine)
    directories = {name: DbStores(engine, box, name) for name in config.connectors}
    connector_objs = _instances(
        "connector",
        {n: n for n in config.connectors},
        connectors,
        lambda name, cls: cls(config.connectors[name], directories[name]),
    )
    gateway_objs = _instances(
        "gateway",
        {a: config.gateway_type(a) for a in config.gateways},
        gateways,
        lambda account, cls: cls(account, {k: v for k, v in config.gateways[account].items() if k != "type"}),
    )
    return Hub(
        config=config,
        engine=engine,
        box=box,
        connectors=connector_objs,
        gateways=gateway_objs,
        stores=directories,
        policies=load_policies(config),
        dispatcher=dispatcher or NoDispatch(),
    )
