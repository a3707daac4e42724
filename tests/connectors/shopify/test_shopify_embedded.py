"""The console inside Shopify admin: ID tokens checked on every request by Shopify's library, the
bounce page for navigations without one, a managed install by token exchange, forms without CSRF
cookies, the frame-ancestors header, one shop's refunds only; and the migration of a non-expiring
offline token. Through the real hub app and the Shopify simulator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from connectors.shopify.auth import ShopToken
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import AppSettings
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop
from hub.testing.stores import MemoryStores
from tests.connectors.shopify import test_shopify_through_hub as through_hub
from tests.connectors.shopify.test_shopify_through_hub import World

make_world, stripe_sim = through_hub.make_world, through_hub.stripe_sim  # the through-hub world, as fixtures here
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"  # base64 of admin.shopify.com/store/demo, as Shopify sends it

APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


def id_token(
    sim: ShopifySimulator, shop: str, *, secret: str | None = None, age: float = 0, aud: str | None = None
) -> str:
    now = time.time() - age
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud or sim.api_key,
        "sub": "74563",
        "exp": int(now + 60),
        "nbf": int(now - 1),
        "iat": int(now),
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret or sim.api_secret, algorithm="HS256")


def framed_url(path: str, shop: str, token: str | None = None) -> str:
    query = {"embedded": "1", "shop": shop, "host": HOST}
    if token:
        query["id_token"] = token
    return f"{path}?{urlencode(query)}"


def test_a_framed_page_with_a_good_token_is_the_shops_console(make_world: Callable[..., World]) -> None:
    w = make_world(shops=2)
    mine, theirs = w.shops
    for shop in (mine, theirs):
        order = w.sim.add_order(shop, [("Kettle", 3900)])
        w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: len(w.hub.refunds()) == 2)
    answer = w.hub.client.get(framed_url("/refunds", mine.domain, id_token(w.sim, mine.domain)))
    assert answer.status_code == 200, answer.text[:300]
    page = answer.get_data(as_text=True)
    assert f'<script src="{APP_BRIDGE}"></script>' in page
    assert f'<meta name="shopify-api-key" content="{w.sim.api_key}">' in page
    assert answer.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{mine.domain} https://admin.shopify.com;"
    )
    mine_refund = next(r for r in w.hub.refunds() if r.store_id == mine.domain)
    theirs_refund = next(r for r in w.hub.refunds() if r.store_id == theirs.domain)
    assert mine_refund.id in page and theirs_refund.id not in page  # one shop, the one Shopify vouched for
    assert f"embedded=1&amp;shop={mine.domain}" in page  # every link keeps the frame's marks
    other = w.hub.client.get(framed_url(f"/refunds/{theirs_refund.id}", mine.domain, id_token(w.sim, mine.domain)))
    assert other.status_code == 404


def test_a_navigation_without_a_token_bounces_through_app_bridge(make_world: Callable[..., World]) -> None:
    w = make_world()
    [shop] = w.shops
    answer = w.hub.client.get(framed_url("/queue", shop.domain))
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/shopify/session-token"
    assert parse_qs(location.query)["shopify-reload"] == [
        f"/queue?embedded=1&shop={shop.domain}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
    ]
    bounce = w.hub.client.get(f"{location.path}?{location.query}")
    assert bounce.status_code == 200
    assert f'data-api-key="{w.sim.api_key}"' in bounce.get_data(as_text=True)


@pytest.mark.parametrize(
    "forged",
    [
        {"secret": "not-the-app-secret"},
        {"age": 3600},  # expired an hour ago
        {"aud": "another-app"},
    ],
)
def test_a_bad_token_is_never_a_session(make_world: Callable[..., World], forged: dict[str, Any]) -> None:
    w = make_world()
    [shop] = w.shops
    token = id_token(w.sim, shop.domain, **forged)
    document = w.hub.client.get(framed_url("/queue", shop.domain, token))
    assert document.status_code in (302, 401)
    assert "Review queue" not in document.get_data(as_text=True)
    fetched = w.hub.client.get(framed_url("/queue", shop.domain), headers={"Authorization": f"Bearer {token}"})
    assert fetched.status_code == 401
    if "aud" not in forged:
        assert fetched.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"  # App Bridge fetches a new one


def test_the_first_framed_load_of_a_new_shop_installs_it_by_token_exchange(make_world: Callable[..., World]) -> None:
    w = make_world(shops=0)
    shop = w.sim.add_shop(f"new-{uuid.uuid4().hex[:8]}.myshopify.com", installed=False)
    before = w.sim.exchanges_of_id_tokens
    answer = w.hub.client.get(framed_url("/queue", shop.domain, id_token(w.sim, shop.domain)))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    store = w.hub.hub.stores["shopify"].get(shop.domain)
    assert store is not None
    assert store.credentials["access_token"].startswith("shpat_")
    assert store.credentials["refresh_token"]  # an expiring offline token
    assert store.settings["installed_by"] == "token_exchange"
    assert shop.subscriptions  # its webhooks subscribed at once
    w.hub.client.get(framed_url("/queue", shop.domain, id_token(w.sim, shop.domain)))
    assert w.sim.exchanges_of_id_tokens == before + 1  # installed once, not on every page


def test_a_framed_form_needs_its_token_not_a_cookie(make_world: Callable[..., World]) -> None:
    w = make_world()
    [shop] = w.shops
    order = w.sim.add_order(shop, [("Kettle", 3900)])
    w.sim.request_return(order, reason="DEFECTIVE")
    w.settle(until=lambda: bool(w.hub.refunds()))
    [refund] = w.hub.refunds()
    url = framed_url(f"/refunds/{refund.id}/note", shop.domain)
    noted = w.hub.client.post(url, data={"body": "customer called", "id_token": id_token(w.sim, shop.domain)})
    assert noted.status_code == 302, noted.get_data(as_text=True)[:300]
    page = w.hub.client.get(framed_url(f"/refunds/{refund.id}", shop.domain, id_token(w.sim, shop.domain)))
    assert "customer called" in page.get_data(as_text=True)
    forged = w.hub.client.post(url, data={"body": "forged", "id_token": id_token(w.sim, shop.domain, secret="x")})
    assert forged.status_code in (302, 401)
    unframed = w.hub.client.post(f"/refunds/{refund.id}/note", data={"body": "forged"})
    assert unframed.status_code in (302, 400)  # the login page, or CSRF: never a note
    page = w.hub.client.get(framed_url(f"/refunds/{refund.id}", shop.domain, id_token(w.sim, shop.domain)))
    assert "forged" not in page.get_data(as_text=True)


def test_an_unframed_console_page_may_not_be_framed(make_world: Callable[..., World]) -> None:
    w = make_world()
    assert w.hub.client.get("/login").headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_a_non_expiring_token_is_migrated_once_on_first_use(make_world: Callable[..., World]) -> None:
    w = make_world(shops=0)
    shop = w.sim.add_shop(f"old-{uuid.uuid4().hex[:8]}.myshopify.com", installed=False)
    old = "shpat_" + uuid.uuid4().hex
    shop.access_tokens[old] = None  # an install from before expiring tokens
    directory = w.hub.hub.stores["shopify"]
    store = directory.save(shop.domain, settings={"api_version": "2025-10"}, credentials={"access_token": old})
    app = AppSettings.from_mapping({**w.sim.hub_settings()})
    with AdminClient(app, directory, store) as client:
        client.read("{ shop { name } }")
    saved = directory.get(shop.domain)
    assert saved is not None
    new = ShopToken.from_credentials(saved.credentials)
    assert new.access_token != old and new.refresh_token
    assert saved.settings["token_migration"] == "expiring"
    assert not shop.token_valid(old)  # Shopify retired the old token
    assert shop.token_valid(new.access_token)


def test_a_custom_apps_token_that_cannot_migrate_keeps_working(sim: ShopifySimulator) -> None:
    """Shopify exempts merchant-created apps: a refusal is noted once and the old token kept."""
    shop: SimShop = sim.add_shop(f"custom-{uuid.uuid4().hex[:8]}.myshopify.com", installed=False)
    custom = "shpat_" + uuid.uuid4().hex
    shop.access_tokens[custom] = None
    shop.custom_app_tokens.add(custom)
    stores = MemoryStores("shopify")
    expiring = custom  # an expiring token: not one Shopify migrates
    store = stores.save(shop.domain, settings={}, credentials={"access_token": expiring})
    with AdminClient(AppSettings.from_mapping(sim.hub_settings()), stores, store) as client:
        client.read("{ shop { name } }")
    saved = stores.get(shop.domain)
    assert saved is not None
    assert saved.settings["token_migration"].startswith("refused")
    assert saved.credentials["access_token"] == expiring
