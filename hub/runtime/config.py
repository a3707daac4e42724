"""One configuration file (``refund-hub.toml``) plus ``REFUND_HUB_*`` environment overrides.

Secrets belong in the environment: any key can be overridden with
``REFUND_HUB_<SECTION>__<KEY>[__<SUBKEY>...]`` (e.g. ``REFUND_HUB_GATEWAYS__STRIPE__API_KEY``;
names match existing keys ignoring case and punctuation), and the common ones have short forms
(``REFUND_HUB_DATABASE_URL``, ``REFUND_HUB_QUEUE_URL``, ``REFUND_HUB_ADMIN_TOKEN``,
``REFUND_HUB_SECRET_KEYS``, ``REFUND_HUB_PUBLIC_URL``). Invalid configuration fails at start with
a ``ConfigError`` naming the key. docs/configuration.md documents every key.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.errors import ConfigError

ENV_PREFIX = "REFUND_HUB_"
SHORT_FORMS = {
    "DATABASE_URL": ("hub", "database_url"),
    "QUEUE_URL": ("hub", "queue_url"),
    "ADMIN_TOKEN": ("hub", "admin_token"),
    "METRICS_TOKEN": ("hub", "metrics_token"),
    "SECRET_KEYS": ("hub", "secret_keys"),
    "PUBLIC_URL": ("hub", "public_url"),
    "INSTANCE_PATH": ("hub", "instance_path"),
    "SMTP_USERNAME": ("email", "username"),
    "SMTP_PASSWORD": ("email", "password"),
}
ROUTE = re.compile(r"^(platform|none|gateway:[a-z][a-z0-9_-]*)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubSettings(Strict):
    instance_path: Path = Path("instance")
    database_url: str | None = None  # default: SQLite file in the instance folder
    queue_url: str | None = None  # default: SqliteHuey file in the instance folder; redis://... at scale
    public_url: str = "http://127.0.0.1:8000"
    admin_token: str | None = None
    # /metrics: public only when set; otherwise it needs the metrics token (or the admin token)
    metrics_public: bool = False
    metrics_token: str | None = None
    secret_keys: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # longer than an SDK's worst case (3 attempts × 30 s timeouts + backoff): a live call never looks dead
    lease_seconds: int = Field(default=300, gt=0)
    janitor_interval: float = Field(default=15.0, gt=0)
    unknown_grace_seconds: int = Field(default=120, ge=0)
    retention_days: int = Field(default=30, ge=7)  # dedupe keys must outlive every provider's retries
    dead_letter_days: int = Field(default=90, ge=7)  # dead letters stay visible and replayable this long
    worker_threads: int = Field(default=8, gt=0)
    # 2 x cores + 1 (gunicorn's own advice): with the ingest service a web worker waits for the
    # group commit instead of the disk, and on 2 cores 5 and 8 workers beat 3 (bench/ingest.py --workers N)
    web_workers: int = Field(default_factory=lambda: 2 * (os.cpu_count() or 1) + 1, gt=0)
    # gevent: a slow client costs a greenlet, not a worker (docs/deployment.md);
    # sync/gthread only behind a proxy that buffers whole requests
    web_worker_class: Literal["gevent", "sync", "gthread"] = "gevent"
    # serve runs one process that commits the deliveries of all web workers together (group
    # commit across processes, hub/ingest/service.py); false: each web worker commits its own
    ingest_service: bool = True
    log_level: str = "INFO"
    shadow_policy: str | None = None  # a candidate policy decided beside the live one, audited only

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [k.strip() for k in value.split(",") if k.strip()] if isinstance(value, str) else value

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_path.resolve() / 'refund-hub.db'}"

    @property
    def ingest_socket(self) -> Path:
        return self.instance_path.resolve() / "ingest.sock"

    @property
    def queue(self) -> str:
        return self.queue_url or f"sqlite:///{self.instance_path.resolve() / 'queue.db'}"


class StoreConfig(Strict):
    connector: str
    settings: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, str] = Field(default_factory=dict)
    routes: dict[str, str] = Field(default_factory=dict)
    policy: str | None = None
    enabled: bool = True

    @field_validator("routes")
    @classmethod
    def _routes(cls, routes: dict[str, str]) -> dict[str, str]:
        for label, route in routes.items():
            if not ROUTE.match(route):
                raise ValueError(
                    f"route for {label!r} must be 'platform', 'none' or 'gateway:<account>', not {route!r}"
                )
        return routes


class WebhookSettings(Strict):
    """Outgoing webhooks (docs/webhooks.md)."""

    failure_limit: int = Field(default=10, ge=1)  # failed attempts in a row before an endpoint is disabled
    timeout_seconds: float = Field(default=15.0, gt=0)
    # endpoints on loopback, private or link-local addresses (and plain http): development only
    allow_private_networks: bool = False


class AuditSettings(Strict):
    """The audit report (docs/architecture.md, audits that can be checked)."""

    report_every_days: float = Field(default=7.0, gt=0)
    review_sla_hours: float = Field(default=48.0, gt=0)
    approval_threshold: int | None = Field(default=None, ge=0)  # minor units; None: a store's two_approvers_above


class ReconcileSettings(Strict):
    """Reconciliation and the monthly exports (docs/reconciliation.md)."""

    every_hours: float = Field(default=24.0, gt=0)  # the janitor compares each store this often
    window_days: int = Field(default=30, gt=0)  # ... over the refunds of this many days
    monthly_exports: bool = True  # each store's last month as CSV under <instance>/exports


class EmailSettings(Strict):
    """The hub's own e-mail to customers (docs/customer.md); off until a host is set."""

    host: str | None = None
    port: int = Field(default=587, gt=0)
    starttls: bool = True
    username: str | None = None  # REFUND_HUB_SMTP_USERNAME
    password: str | None = None  # REFUND_HUB_SMTP_PASSWORD
    from_address: str = "refunds@localhost"
    timeout_seconds: float = Field(default=20.0, gt=0)
    templates_path: Path | None = None  # <store>/<locale>/<step>.txt|html override the built-in ones


class CustomerSettings(Strict):
    """What customers are told and the request page (docs/customer.md); stores override per key."""

    review_response: str = "2 business days"
    # how long the money takes to arrive, per gateway type (or "platform", "store_credit", "coupon")
    arrival: dict[str, str] = Field(
        default_factory=lambda: {
            "stripe": "5–10 business days",
            "paypal": "2–5 business days to your card (up to 30), at once to a PayPal balance",
            "square": "up to 14 business days",
            "platform": "5–10 business days",
            "store_credit": "at once",
            "coupon": "at once",
        }
    )
    link_days: int = Field(default=60, gt=0)  # how long a signed order or status link stays valid
    lookups_per_hour: int = Field(default=10, gt=0)  # order look-ups per address and per order
    # every order look-up is answered after at least this long, found or not: longer than the
    # platform's slowest read, so the time taken does not tell which orders exist
    lookup_floor_ms: int = Field(default=1000, ge=0, le=10_000)


class Config(Strict):
    hub: HubSettings = Field(default_factory=HubSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    customer: CustomerSettings = Field(default_factory=CustomerSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    gateways: dict[str, dict[str, Any]] = Field(default_factory=dict)
    stores: dict[str, StoreConfig] = Field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sandbox: dict[str, Any] = Field(default_factory=dict)  # simulators `serve` starts (embedded default)
    source: str | None = None

    @model_validator(mode="after")
    def _references(self) -> Config:
        for store_id, store in self.stores.items():
            if store.connector not in self.connectors:
                raise ConfigError(
                    f"stores.{store_id}.connector", f"connector {store.connector!r} is not enabled in [connectors]"
                )
            for label, route in store.routes.items():
                if route.startswith("gateway:") and route[8:] not in self.gateways:
                    raise ConfigError(
                        f"stores.{store_id}.routes.{label}", f"no gateway account {route[8:]!r} in [gateways]"
                    )
            if store.policy and store.policy not in self.policies:
                raise ConfigError(f"stores.{store_id}.policy", f"no policy {store.policy!r} in [policies]")
        if self.hub.shadow_policy and self.hub.shadow_policy not in self.policies:
            raise ConfigError("hub.shadow_policy", f"no policy {self.hub.shadow_policy!r} in [policies]")
        return self

    def gateway_type(self, account: str) -> str:
        return str(self.gateways[account].get("type", account))


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Config:
    """Read the file (``path``, else ``REFUND_HUB_CONFIG``, else ./refund-hub.toml if present),
    apply environment overrides, validate."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = _deep_copy(data) if data is not None else {}
    source = None
    if data is None:
        chosen = path or env.get(f"{ENV_PREFIX}CONFIG")
        if chosen is None and Path("refund-hub.toml").exists():
            chosen = "refund-hub.toml"
        if chosen is not None:
            source = str(chosen)
            try:
                text = Path(chosen).read_text()
                raw = json.loads(text) if str(chosen).endswith(".json") else tomllib.loads(text)
            except FileNotFoundError as exc:
                raise ConfigError("REFUND_HUB_CONFIG", f"file {chosen} not found") from exc
            except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
                raise ConfigError(str(chosen), f"not valid TOML/JSON: {exc}") from exc
    _apply_env(raw, env)
    if source:
        raw["source"] = source
        base = Path(source).parent
        hub = raw.setdefault("hub", {})
        if "instance_path" in hub and not Path(hub["instance_path"]).is_absolute():
            hub["instance_path"] = str(base / hub["instance_path"])
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise ConfigError(key, first["msg"]) from None


def _deep_copy(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :]
        path = list(SHORT_FORMS[rest]) if rest in SHORT_FORMS else rest.split("__")
        if len(path) < 2:
            continue
        node = raw
        for part in path[:-1]:
            key = _match_key(node, part)
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node[_match_key(node, path[-1])] = value


def _match_key(node: dict[str, Any], part: str) -> str:
    for existing in node:
        if _norm(existing) == _norm(part):
            return existing
    return part.lower()
