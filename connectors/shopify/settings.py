"""The Shopify app's settings and the facts pinned for the whole connector (API version, scopes,
topics, default payment routes).

``[connectors.shopify]`` holds the app-wide values: ``api_key`` (client id), ``api_secret``
(client secret), ``previous_api_secret`` (accepted during a rotation), ``app_url`` (the hub's
public base URL), and for the simulators ``test_mode`` plus ``admin_url`` (a template such as
``http://127.0.0.1:8123/store/{shop}`` standing in for ``https://{shop}``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hub.errors import ConfigError

# The one place the Admin API version is pinned. 2026-04 is the first version where
# refundCreate refuses to run without an @idempotent(key:) directive.
API_VERSION = "2026-04"

# store credit: an accepted alternative is credited to the customer's account (connectors/shopify/credit.py),
# or issued as a gift card where the store sets store_credit_as = "gift_card" (connectors/shopify/gift_card.py);
# read_customers and read_products: the customer's order count and spend, product tags and the final-sale
# metafield the policy reads (connectors/shopify/facts.py; without them those facts are unknown)
SCOPES = (
    "read_orders",
    "write_orders",
    "read_returns",
    "write_returns",
    "read_store_credit_account_transactions",
    "write_store_credit_account_transactions",
    "read_gift_cards",
    "write_gift_cards",
    "read_customers",
    "read_products",
)

# Topics registered per shop with webhookSubscriptionCreate after an install, and declared for
# the whole app in connectors/shopify/shopify.app.toml (a test keeps the two equal; a delivery
# through both is one event id, stored once). The compliance topics (customers/data_request,
# customers/redact, shop/redact) cannot be subscribed through the Admin API: only the TOML
# (or the Dev Dashboard) declares them.
SUBSCRIBED_TOPICS = (
    "RETURNS_REQUEST",
    "RETURNS_APPROVE",
    "RETURNS_DECLINE",
    "RETURNS_CLOSE",
    "RETURNS_CANCEL",
    "REFUNDS_CREATE",
    "ORDER_TRANSACTIONS_CREATE",
    "APP_UNINSTALLED",
)

# Gateways Shopify processes itself are refunded through Shopify (refundCreate); an order
# paid through an outside gateway is refunded there with the merchant's own credentials.
DEFAULT_ROUTES: Mapping[str, str] = {
    "shopify_payments": "platform",
    "shopify_installments": "platform",
    "shop_pay_installments": "platform",
    "gift_card": "platform",
    "bogus": "platform",  # Shopify's test gateway
    "stripe": "gateway:stripe",
    "paypal": "gateway:paypal",
    "square": "gateway:square",
}

MYSHOPIFY_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


def is_shop_domain(value: str) -> bool:
    return bool(MYSHOPIFY_DOMAIN.fullmatch(value or ""))


def shop_name(store_id: str) -> str:
    """``demo.myshopify.com`` -> ``demo``: the form the ``shopify_app`` package expects."""
    return store_id.removesuffix(".myshopify.com")


@dataclass(frozen=True)
class AppSettings:
    api_key: str
    api_secret: str
    previous_api_secret: str | None = None
    app_url: str = ""
    admin_url: str | None = None
    test_mode: bool = False
    timeout: float = 10.0
    max_retries: int = 2
    notify_customer: bool = True
    record_refunds: bool = True  # record(): also a money-less refundCreate, not only the metafield

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> AppSettings:
        secret = str(settings.get("api_secret") or "")
        if not secret:
            raise ConfigError("connectors.shopify.api_secret", "is required to verify webhooks")
        test_mode = bool(settings.get("test_mode", False))
        admin_url = settings.get("admin_url") or None
        if admin_url is not None:
            if "{shop}" not in admin_url:
                raise ConfigError("connectors.shopify.admin_url", "must contain {shop}")
            check_url("connectors.shopify.admin_url", admin_url.replace("{shop}", "shop.myshopify.com"), test_mode)
        app_url = str(settings.get("app_url") or "").rstrip("/")
        if app_url:
            check_url("connectors.shopify.app_url", app_url, test_mode)
        return cls(
            api_key=str(settings.get("api_key") or ""),
            api_secret=secret,
            previous_api_secret=settings.get("previous_api_secret") or None,
            app_url=app_url,
            admin_url=admin_url,
            test_mode=test_mode,
            timeout=float(settings.get("timeout", 10.0)),
            max_retries=int(settings.get("max_retries", 2)),
            notify_customer=bool(settings.get("notify_customer", True)),
            record_refunds=bool(settings.get("record_refunds", True)),
        )

    def admin_base(self, shop: str) -> str:
        """Where a shop's Admin API and OAuth endpoints live (``https://{shop}`` outside tests)."""
        template = self.admin_url or "https://{shop}"
        return template.replace("{shop}", shop).rstrip("/")


def check_url(key: str, url: str, test_mode: bool) -> None:
    """Refuse plain http and loopback/private hosts unless ``test_mode`` (the simulators) is on."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(key, f"{url!r} is not an absolute http(s) URL")
    if test_mode:
        return
    if parts.scheme != "https":
        raise ConfigError(key, "must use https (http is allowed only with test_mode)")
    if _is_local(parts.hostname):
        raise ConfigError(key, "loopback and private hosts are allowed only with test_mode")


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local
