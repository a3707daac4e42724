"""``connectors/shopify/shopify.app.toml`` says what the connector does: the same scopes, API
version and topics the hub subscribes each shop to, the three mandatory compliance topics, and the
hub's own routes for installs and webhooks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from connectors.shopify.settings import API_VERSION, SCOPES, SUBSCRIBED_TOPICS
from connectors.shopify.transformers import TOPIC_KINDS

APP_TOML = Path(__file__).resolve().parents[3] / "connectors" / "shopify" / "shopify.app.toml"
COMPLIANCE = {"customers/data_request", "customers/redact", "shop/redact"}


def as_topic(enum_name: str) -> str:
    """``ORDER_TRANSACTIONS_CREATE`` (GraphQL) -> ``order_transactions/create`` (TOML, headers)."""
    return "/".join(enum_name.lower().rsplit("_", 1))


@pytest.fixture(scope="module")
def app() -> dict[str, Any]:
    return tomllib.loads(APP_TOML.read_text())


def subscriptions(app: dict[str, Any], key: str) -> list[str]:
    return [topic for sub in app["webhooks"]["subscriptions"] for topic in sub.get(key, ())]


def test_the_toml_subscribes_exactly_what_the_hub_subscribes_each_shop_to(app: dict[str, Any]) -> None:
    topics = subscriptions(app, "topics")
    assert sorted(topics) == sorted(as_topic(t) for t in SUBSCRIBED_TOPICS)
    assert len(topics) == len(set(topics))
    assert "returns/cancel" in topics


def test_the_three_compliance_topics_are_declared(app: dict[str, Any]) -> None:
    assert set(subscriptions(app, "compliance_topics")) == COMPLIANCE


def test_every_subscribed_topic_is_one_the_connector_reads(app: dict[str, Any]) -> None:
    declared = set(subscriptions(app, "topics")) | set(subscriptions(app, "compliance_topics"))
    assert declared == set(TOPIC_KINDS)  # nothing subscribed that parse would drop, nothing mapped left out


def test_scopes_and_api_version_are_the_connectors(app: dict[str, Any]) -> None:
    assert app["access_scopes"]["scopes"].split(",") == list(SCOPES)
    assert app["access_scopes"]["use_legacy_install_flow"] is True  # the hub asks for its scopes in OAuth
    assert app["webhooks"]["api_version"] == API_VERSION


def test_urls_point_at_the_hubs_routes(app: dict[str, Any]) -> None:
    base = urlsplit(app["application_url"])
    assert base.scheme == "https"
    assert base.path == "/install/shopify"
    assert [urlsplit(u).path for u in app["auth"]["redirect_urls"]] == ["/install/shopify/callback"]
    assert {urlsplit(sub["uri"]).path for sub in app["webhooks"]["subscriptions"]} == {"/webhooks/shopify"}
    hosts = {urlsplit(u).netloc for u in [app["application_url"], *app["auth"]["redirect_urls"]]}
    hosts |= {urlsplit(sub["uri"]).netloc for sub in app["webhooks"]["subscriptions"]}
    assert len(hosts) == 1  # one hub: edit one host name
    assert app["embedded"] is False
