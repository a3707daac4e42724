"""Configuration, plugin discovery, secrets at rest, schema export, money helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.cli.starter import write_starter
from hub.errors import ConfigError, PluginError
from hub.models.json_schema import json_schema
from hub.models.money import allocate, format_decimal, to_minor
from hub.runtime import plugins
from hub.runtime.config import load_config
from hub.runtime.crypto import SecretBox

ROOT = Path(__file__).resolve().parents[2]


def test_starter_config_is_valid_and_env_overrides_secrets(tmp_path: Path) -> None:
    path = tmp_path / "refund-hub.toml"
    write_starter(path)
    config = load_config(
        path, env={"REFUND_HUB_GATEWAYS__STRIPE__API_KEY": "from-env", "REFUND_HUB_DATABASE_URL": "sqlite:///x.db"}
    )
    assert config.gateways["stripe"]["api_key"] == "from-env"
    assert config.hub.db_url == "sqlite:///x.db"
    assert config.hub.instance_path == tmp_path / "instance"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"hub": {"lease_seconds": 0}}, "hub.lease_seconds"),
        ({"hub": {"retention_days": 3}}, "hub.retention_days"),
        ({"stores": {"s": {"connector": "shopify"}}}, "stores.s.connector"),
        (
            {"connectors": {"sandbox": {}}, "stores": {"s": {"connector": "sandbox", "routes": {"x": "stripe"}}}},
            "stores.s.routes",
        ),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_configuration_names_the_key(data: dict, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(data=data, env={})
    assert caught.value.key.startswith(key)


def test_plugins_load_by_name_and_fail_loudly() -> None:
    loaded = plugins.load(plugins.CONNECTORS, ["sandbox"])
    assert loaded["sandbox"].name == "sandbox"
    assert {"shopify", "woocommerce", "magento", "sandbox"} <= set(plugins.available(plugins.CONNECTORS))
    assert {"stripe", "paypal", "square", "sandbox"} <= set(plugins.available(plugins.GATEWAYS))
    with pytest.raises(PluginError, match="no refund_hub.gateways plugin named 'nope'.*installed: "):
        plugins.load(plugins.GATEWAYS, ["nope"])


def test_duplicate_plugin_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    twins = [
        EntryPoint("stripe", "gateways.stripe:StripeGateway", plugins.GATEWAYS),
        EntryPoint("stripe", "other_pkg.stripe:Gateway", plugins.GATEWAYS),
    ]
    monkeypatch.setattr(plugins, "entry_points", lambda group: twins)
    with pytest.raises(PluginError, match="claimed by several packages.*other_pkg"):
        plugins.load(plugins.GATEWAYS, ["stripe"])


def test_credentials_are_sealed_and_keys_rotate() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox([old]).seal({"token": "shpat_secret"})
    assert "shpat_secret" not in token
    rotated = SecretBox([new, old]).rotate(token)
    assert SecretBox([new]).open(rotated) == {"token": "shpat_secret"}
    with pytest.raises(ConfigError):
        SecretBox([new]).open(token)


def test_schema_is_published_and_committed_copy_is_current() -> None:
    schema = json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"RefundRequest", "Line", "Payment", "DigitalUsage"} <= set(schema["$defs"])
    committed = json.loads((ROOT / "docs" / "schema.json").read_text())
    assert committed == schema, "run `refund-hub schema > docs/schema.json`"


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(500, "JPY", "500"), (1250, "KWD", "1.250"), (12345, "HUF", "123.45"), (500, "USD", "5.00")],
)
def test_money_formats_with_iso_exponents(minor: int, currency: str, text: str) -> None:
    assert format_decimal(minor, currency) == text
    assert to_minor(text, currency) == minor


def test_allocation_adds_up_exactly() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert sum(allocate(1001, [3, 7, 11, 13])) == 1001
