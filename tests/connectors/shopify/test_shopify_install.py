"""Install as an app, end to end over real HTTP: hub stub -> simulator OAuth -> hub callback -> webhooks."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.shopify import ShopifyConnector
from connectors.shopify.settings import SCOPES, SUBSCRIBED_TOPICS
from connectors.shopify.sim import ShopifySimulator
from connectors.shopify.sim.state import SimShop
from hub.errors import ConfigError
from hub.models import RefundRequested
from hub.testing.stores import MemoryStores

from .conftest import HubStub, delivery_of, wait_for


@pytest.fixture
def new_shop(sim: ShopifySimulator) -> SimShop:
    return sim.add_shop(f"new-{uuid.uuid4().hex[:8]}.myshopify.com", installed=False)


def _install(hub: HubStub, shop: SimShop) -> requests.Response:
    return requests.get(f"{hub.url}/install/shopify", params={"shop": shop.domain}, timeout=10)


def test_install_refresh_and_webhooks_end_to_end(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop
) -> None:
    response = _install(hub, new_shop)
    assert response.status_code == 200, response.text
    assert [r.status_code for r in response.history] == [302, 302]
    authorize = urlsplit(response.history[0].headers["Location"])
    query = parse_qs(authorize.query)
    assert authorize.path == f"/store/{new_shop.domain}/admin/oauth/authorize"
    assert query["scope"] == [",".join(SCOPES)]  # store credit included: alternatives are issued
    assert query["redirect_uri"] == [f"{hub.url}/install/shopify/callback"]

    store = stores.get(new_shop.domain)
    assert store is not None
    assert {"access_token", "refresh_token", "expires", "refresh_token_expires"} <= set(store.credentials)
    assert store.settings["api_version"] == "2026-04"
    assert stores.get_state(new_shop.domain, "oauth_state") is None
    expected = {"/".join(t.lower().rsplit("_", 1)) for t in SUBSCRIBED_TOPICS}
    assert set(new_shop.subscriptions) == expected
    assert all(uris == [f"{hub.url}/webhooks/shopify"] for uris in new_shop.subscriptions.values())

    # the hour passes: the next call refreshes first and keeps the rotated pair
    stores.add(
        new_shop.domain, settings=store.settings, credentials={**store.credentials, "expires": "2001-01-01T00:00:00Z"}
    )
    sim.expire_tokens(new_shop)
    order = sim.add_order(new_shop, [("Kettle", 3900)])
    sim.request_return(order, reason="DEFECTIVE")
    verified, item = wait_for(lambda: hub.deliveries("returns/request") and hub.deliveries("returns/request")[0])
    (notice,) = hub.connector.parse(delivery_of(item, verified))
    fresh_store = stores.get(new_shop.domain)
    assert fresh_store is not None
    event = hub.connector.fetch(fresh_store, notice)
    assert isinstance(event, RefundRequested) and event.request.amount == 3900
    assert new_shop.refreshes == 1
    rotated = stores.get(new_shop.domain)
    assert rotated is not None and rotated.credentials["refresh_token"] != store.credentials["refresh_token"]

    # uninstall arrives as a signed webhook and becomes an "uninstalled" notice
    sim.uninstall(new_shop)
    verified, item = wait_for(lambda: hub.deliveries("app/uninstalled") and hub.deliveries("app/uninstalled")[0])
    (gone,) = hub.connector.parse(delivery_of(item, verified))
    assert (gone.kind, gone.store_id) == ("uninstalled", new_shop.domain)
    assert hub.refused == []


def test_reinstall_keeps_existing_subscriptions(sim: ShopifySimulator, hub: HubStub, new_shop: SimShop) -> None:
    assert _install(hub, new_shop).status_code == 200
    assert _install(hub, new_shop).status_code == 200
    assert all(len(uris) == 1 for uris in new_shop.subscriptions.values())


def _callback_params(
    sim: ShopifySimulator, stores: MemoryStores, shop: SimShop, state: str = "nonce-1", timestamp: int | None = None
) -> dict[str, str]:
    stores.set_state(shop.domain, "oauth_state", f"nonce-1 {int(time.time())}")
    params = {"code": "unused", "shop": shop.domain, "state": state, "timestamp": str(timestamp or int(time.time()))}
    params["hmac"] = sim.sign_query(params)
    return params


def test_callback_with_tampered_query_is_refused(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop
) -> None:
    params = _callback_params(sim, stores, new_shop)
    params["code"] = "swapped"
    response = requests.get(f"{hub.url}/install/shopify/callback", params=params, timeout=5)
    assert response.status_code == 400 and stores.get(new_shop.domain) is None


def test_callback_with_foreign_state_is_refused(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop
) -> None:
    params = _callback_params(sim, stores, new_shop, state="nonce-of-someone-else")
    response = requests.get(f"{hub.url}/install/shopify/callback", params=params, timeout=5)
    assert response.status_code == 403 and stores.get(new_shop.domain) is None


def test_stale_callback_is_refused(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop
) -> None:
    params = _callback_params(sim, stores, new_shop, timestamp=int(time.time()) - 3600)
    response = requests.get(f"{hub.url}/install/shopify/callback", params=params, timeout=5)
    assert response.status_code == 400


@pytest.mark.parametrize("shop", ["evil.example.com", "127.0.0.1:8080", "x.myshopify.com.evil.io", ""])
def test_install_only_for_myshopify_domains(hub: HubStub, shop: str) -> None:
    response = requests.get(f"{hub.url}/install/shopify", params={"shop": shop}, timeout=5, allow_redirects=False)
    assert response.status_code == 400


def test_signed_install_link_is_checked(sim: ShopifySimulator, hub: HubStub, new_shop: SimShop) -> None:
    params = {"shop": new_shop.domain, "timestamp": str(int(time.time()))}
    params["hmac"] = sim.sign_query(params)
    good = requests.get(f"{hub.url}/install/shopify", params=params, timeout=5, allow_redirects=False)
    assert good.status_code == 302
    params["hmac"] = "0" * 64
    bad = requests.get(f"{hub.url}/install/shopify", params=params, timeout=5, allow_redirects=False)
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "key,value",
    [
        ("admin_url", "http://127.0.0.1:8000/store/{shop}"),
        ("admin_url", "https://10.0.0.5/store/{shop}"),
        ("app_url", "http://hub.example.com"),
    ],
)
def test_http_and_loopback_need_test_mode(key: str, value: str) -> None:
    settings = {"api_key": "k", "api_secret": "s", key: value}
    with pytest.raises(ConfigError):
        ShopifyConnector(settings, MemoryStores("shopify"))
    ShopifyConnector({**settings, "test_mode": True}, MemoryStores("shopify"))


# install state belongs to the browser that started the install ----------------------------------


def _start(session: requests.Session, hub: HubStub, shop: SimShop) -> str:
    """The first hop only: the hub's redirect to Shopify's authorize page."""
    response = session.get(f"{hub.url}/install/shopify", params={"shop": shop.domain}, timeout=5, allow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def test_two_browsers_installing_one_shop_do_not_void_each_other(
    hub: HubStub, stores: MemoryStores, new_shop: SimShop
) -> None:
    """Anyone may open /install/shopify?shop=X; that must not spoil X's own install in progress."""
    merchant, stranger = requests.Session(), requests.Session()
    authorize = _start(merchant, hub, new_shop)
    _start(stranger, hub, new_shop)
    finished = merchant.get(authorize, timeout=10)  # Shopify -> the hub's callback, with the merchant's cookie
    assert finished.status_code == 200, finished.text
    assert stores.get(new_shop.domain) is not None


def test_a_callback_from_another_browser_is_refused(hub: HubStub, stores: MemoryStores, new_shop: SimShop) -> None:
    """The state is bound to the browser that started: the same signed callback without its cookie fails."""
    merchant = requests.Session()
    authorize = _start(merchant, hub, new_shop)
    callback = requests.get(authorize, timeout=10, allow_redirects=False).headers["Location"]
    assert requests.get(callback, timeout=10).status_code == 403
    assert stores.get(new_shop.domain) is None


def test_a_callback_is_good_once(hub: HubStub, new_shop: SimShop) -> None:
    merchant = requests.Session()
    authorize = _start(merchant, hub, new_shop)
    cookies = merchant.cookies.get_dict()
    callback = merchant.get(authorize, timeout=10, allow_redirects=False).headers["Location"]
    assert merchant.get(callback, timeout=10).status_code == 200
    again = requests.get(callback, cookies=cookies, timeout=10)  # the same cookie and signed query, replayed
    assert again.status_code == 403


def test_unauthenticated_install_starts_leave_no_lasting_state(hub: HubStub, stores: MemoryStores) -> None:
    for _ in range(25):
        shop = f"probe-{uuid.uuid4().hex[:10]}.myshopify.com"
        started = requests.get(f"{hub.url}/install/shopify", params={"shop": shop}, timeout=5, allow_redirects=False)
        assert started.status_code == 302
    assert all(expires is not None for _, expires in stores._state.values())


def test_the_state_cookie_is_httponly_lax_and_secure_over_https(settings: dict[str, str]) -> None:
    from flask import Flask

    connector = ShopifyConnector({**settings, "app_url": "https://hub.example.com"}, MemoryStores("shopify"))
    app = Flask("install-cookie")
    app.register_blueprint(connector.blueprint())
    response = app.test_client().get("/install/shopify?shop=cookie-shop.myshopify.com")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/install/shopify" in cookie


def test_install_without_a_shop_asks_for_it_and_a_bad_one_is_a_400(hub: HubStub) -> None:
    url = f"{hub.url}/install/shopify"
    form = requests.get(url, timeout=5, allow_redirects=False)
    assert (form.status_code, form.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert 'name="shop"' in form.text
    for params in ({"shop": ""}, {"shop": "not a shop"}):
        response = requests.get(url, params=params, timeout=5, allow_redirects=False)
        assert response.status_code == 400
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["error"] == "invalid_shop"
        browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        again = requests.get(url, params=params, headers=browser, timeout=5, allow_redirects=False)
        assert again.status_code == 400
        assert 'id="install-error"' in again.text  # the form again, saying what was wrong


@pytest.mark.parametrize("skew", [-120, 120])
def test_callback_outside_shopifys_clock_window_is_refused(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop, skew: int
) -> None:
    """Shopify's own libraries allow 90 seconds between the callback's timestamp and the clock."""
    params = _callback_params(sim, stores, new_shop, timestamp=int(time.time()) + skew)
    response = requests.get(f"{hub.url}/install/shopify/callback", params=params, timeout=5)
    assert response.status_code == 400 and response.json()["error"] == "invalid_callback"


@pytest.mark.parametrize("cookie", ["\xe9t\xe9.1.x", "a.b.c", "..", "x" * 300, "nonce-1.99999999999999999999.ab"])
def test_a_forged_state_cookie_is_a_403(
    sim: ShopifySimulator, hub: HubStub, stores: MemoryStores, new_shop: SimShop, cookie: str
) -> None:
    params = _callback_params(sim, stores, new_shop)
    headers = {"Cookie": f"refund_hub_shopify_state={cookie}"}
    response = requests.get(f"{hub.url}/install/shopify/callback", params=params, headers=headers, timeout=5)
    assert response.status_code == 403 and response.json()["error"] == "invalid_state"
