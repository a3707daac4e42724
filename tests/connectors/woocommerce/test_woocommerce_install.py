"""The install flow end to end against the simulator: key authorization, the unsigned key callback
bound to the hub's ``user_id``, webhook creation with the hub's secret, and store URL checks."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.install import validate_store_url
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.testing.stores import MemoryStores

Wait = Callable[..., Any]


@pytest.fixture
def bare_sim(hub_side: Any) -> Iterator[WooCommerceSimulator]:
    """A store the hub has never seen: no keys for it, no webhooks on it."""
    simulator = WooCommerceSimulator(seed_webhooks=False).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def installer(hub_side: Any) -> WooCommerceConnector:
    made = WooCommerceConnector({"app_url": hub_side.url, "test_mode": True, "timeout": 5}, MemoryStores("woocommerce"))
    hub_side.mount(made)
    return made


def _start(hub_side: Any, store_url: str) -> requests.Response:
    return requests.get(
        f"{hub_side.url}/install/woocommerce", params={"store_url": store_url}, allow_redirects=False, timeout=5
    )


def test_install_end_to_end(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any, wait: Wait
) -> None:
    answer = requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": f"{bare_sim.url}/"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert f'connected to <strong class="mono">{bare_sim.store_id}</strong>' in answer.text
    [grant] = bare_sim.authorizations
    assert (grant["app_name"], grant["key_permissions"], grant["accepted"]) == ("Refund Hub", "read_write", True)
    store = installer.stores.get(bare_sim.store_id)
    assert store is not None and store.settings["url"] == bare_sim.store_id
    assert (store.credentials["consumer_key"], store.credentials["consumer_secret"]) == (
        grant["consumer_key"],
        grant["consumer_secret"],
    )
    secret = store.credentials["webhook_secret"]
    assert secret.isalnum() and len(secret) >= 32
    hooks = sorted(bare_sim.shop.webhooks.values(), key=lambda h: h["id"])
    assert [h["topic"] for h in hooks] == [
        "order.updated",
        "action.woocommerce_order_refunded",
        "action.woocommerce_refund_created",
    ]
    assert {h["secret"] for h in hooks} == {secret} and {h["status"] for h in hooks} == {"active"}
    pings = wait(lambda: len(hub_side.verified("ping")) == 3 and hub_side.verified("ping"))
    assert {v.store_id for _, v in pings} == {bare_sim.store_id} and all(v.ack_only for _, v in pings)
    order = bare_sim.add_order(transaction_id="ch_1")
    bare_sim.add_manual_refund(order["id"], "2.00")
    [(_, delivered)] = wait(lambda: hub_side.verified("order.updated"))
    assert delivered.store_id == bare_sim.store_id


def test_callback_needs_the_user_id_the_hub_issued(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    start = _start(hub_side, bare_sim.url)
    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{bare_sim.url}/wc-auth/v1/authorize"
    assert (query["app_name"], query["scope"]) == ("Refund Hub", "read_write")
    assert query["callback_url"].startswith(f"{hub_side.url}/install/woocommerce/callback?store=")
    keys = {"key_id": 1, "consumer_key": "ck_1", "consumer_secret": "cs_1", "key_permissions": "read_write"}
    bare_sim.auth.keys["ck_1"] = "cs_1"  # keys WooCommerce created when the merchant granted access
    forged = requests.post(query["callback_url"], data=json.dumps({**keys, "user_id": "guessed"}), timeout=5)
    assert forged.status_code == 403
    read_only = requests.post(
        query["callback_url"],
        timeout=5,
        data=json.dumps({**keys, "user_id": query["user_id"], "key_permissions": "read"}),
    )
    assert read_only.status_code == 400
    other_store = query["callback_url"].replace("store=", "store=https%3A%2F%2Fvictim.example&x=")
    assert (
        requests.post(other_store, data=json.dumps({**keys, "user_id": query["user_id"]}), timeout=5).status_code == 403
    )
    good = requests.post(query["callback_url"], data=json.dumps({**keys, "user_id": query["user_id"]}), timeout=5)
    assert good.status_code == 200
    replay = requests.post(query["callback_url"], data=json.dumps({**keys, "user_id": query["user_id"]}), timeout=5)
    assert replay.status_code == 403
    store = installer.stores.get(bare_sim.store_id)
    assert store is not None and store.credentials["consumer_key"] == "ck_1"


def test_denied_authorization_installs_nothing(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    bare_sim.deny_authorization = True
    answer = requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": bare_sim.url}, timeout=10)
    assert answer.status_code == 400 and "did not grant" in answer.text
    assert installer.stores.get(bare_sim.store_id) is None and bare_sim.shop.webhooks == {}


def test_expired_install_is_refused(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    query = {k: v[0] for k, v in parse_qs(urlsplit(_start(hub_side, bare_sim.url).headers["Location"]).query).items()}
    key = f"install:{query['user_id']}"
    installer.stores.set_state(bare_sim.store_id, key, json.dumps({"issued": 0, "stage": "authorize"}))
    keys = {"key_id": 1, "consumer_key": "ck_1", "consumer_secret": "cs_1", "key_permissions": "read_write"}
    answer = requests.post(query["callback_url"], data=json.dumps({**keys, "user_id": query["user_id"]}), timeout=5)
    assert answer.status_code == 403


def test_reinstall_keeps_the_webhook_secret(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    for _ in range(2):
        answer = requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": bare_sim.url}, timeout=10)
        assert answer.status_code == 200
    store = installer.stores.get(bare_sim.store_id)
    assert store is not None and store.credentials["consumer_key"] == bare_sim.authorizations[1]["consumer_key"]
    assert len(bare_sim.shop.webhooks) == 3
    assert {h["secret"] for h in bare_sim.shop.webhooks.values()} == {store.credentials["webhook_secret"]}


def test_private_store_urls_are_refused_outside_test_mode(hub_side: Any) -> None:
    strict = WooCommerceConnector({"app_url": hub_side.url}, MemoryStores("woocommerce"))
    hub_side.mount(strict)
    answer = _start(hub_side, "https://127.0.0.1:8443")
    assert answer.status_code == 400 and "non-public" in answer.text


def _resolver(*addresses: str) -> Callable[..., list[Any]]:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


@pytest.mark.parametrize(
    ("url", "addresses", "problem"),
    [
        ("http://shop.example", ("93.184.216.34",), "https"),
        ("https://shop.example", ("10.0.0.8",), "non-public"),
        ("https://shop.example", ("93.184.216.34", "192.168.1.2"), "non-public"),
        ("https://shop.example", ("::1",), "non-public"),
        ("https://shop.example", ("::ffff:127.0.0.1",), "non-public"),
        ("https://shop.example", ("169.254.169.254",), "non-public"),
        ("https://user:pw@shop.example", ("93.184.216.34",), "credentials"),
        ("shop.example", (), "absolute"),
        ("ftp://shop.example", (), "absolute"),
    ],
)
def test_store_url_checks(url: str, addresses: tuple[str, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        validate_store_url(url, test_mode=False, resolve=_resolver(*addresses))


def test_public_https_store_url_is_accepted() -> None:
    assert (
        validate_store_url("https://Shop.example/", test_mode=False, resolve=_resolver("93.184.216.34"))
        == "https://shop.example"
    )


def test_test_mode_accepts_the_simulator() -> None:
    assert validate_store_url("http://127.0.0.1:8080/", test_mode=True) == "http://127.0.0.1:8080"


def _query_of(start: requests.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}


FORGED = {"key_id": 9, "consumer_key": "ck_attacker", "consumer_secret": "cs_attacker", "key_permissions": "read_write"}


def test_a_forged_callback_cannot_replace_a_working_installs_keys(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    assert requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": bare_sim.url}, timeout=10).ok
    before = installer.stores.get(bare_sim.store_id)
    assert before is not None
    # anyone can start an install for the store's URL and read the user_id from the redirect
    query = _query_of(_start(hub_side, bare_sim.url))
    forged = requests.post(query["callback_url"], data=json.dumps({**FORGED, "user_id": query["user_id"]}), timeout=5)
    assert forged.status_code == 403 and forged.json()["error"] == "keys_not_verified"
    after = installer.stores.get(bare_sim.store_id)
    assert after is not None and after.credentials == before.credentials
    # the user_id was used up: the genuine WooCommerce callback for it is refused too
    again = requests.post(query["callback_url"], data=json.dumps({**FORGED, "user_id": query["user_id"]}), timeout=5)
    assert again.status_code == 403


def test_a_forged_callback_cannot_re_enable_a_disabled_store(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any
) -> None:
    assert requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": bare_sim.url}, timeout=10).ok
    installer.stores.disable(bare_sim.store_id)
    query = _query_of(_start(hub_side, bare_sim.url))
    forged = requests.post(query["callback_url"], data=json.dumps({**FORGED, "user_id": query["user_id"]}), timeout=5)
    assert forged.status_code == 403 and installer.stores.get(bare_sim.store_id) is None
    # the merchant reinstalling through WooCommerce (genuine keys) does
    assert requests.get(f"{hub_side.url}/install/woocommerce", params={"store_url": bare_sim.url}, timeout=10).ok
    store = installer.stores.get(bare_sim.store_id)
    assert store is not None and store.credentials["consumer_key"] == bare_sim.authorizations[-1]["consumer_key"]


@dataclass
class FakeClock:
    now: float

    def time(self) -> float:
        return self.now


def test_install_secrets_are_one_use_and_expire(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any, monkeypatch: Any
) -> None:
    import connectors.woocommerce.install as install
    import hub.testing.stores as memory

    clock = FakeClock(time.time())  # the hour a secret lives passes at once, however slow the machine
    monkeypatch.setattr(install, "time", clock)
    monkeypatch.setattr(memory, "time", clock)
    stores = installer.stores
    assert isinstance(stores, MemoryStores)
    for _ in range(20):  # unauthenticated starts leave nothing behind once their ttl ran out
        _start(hub_side, bare_sim.url)
    query = _query_of(_start(hub_side, bare_sim.url))
    assert stores.state_count() == 21
    clock.now += install.TOKEN_TTL - 1
    assert stores.state_count() == 21  # not a second early
    clock.now += 2
    assert stores.state_count() == 0
    keys = {"key_id": 1, "consumer_key": bare_sim.consumer_key, "consumer_secret": bare_sim.consumer_secret}
    late = requests.post(
        query["callback_url"],
        data=json.dumps({**keys, "key_permissions": "read_write", "user_id": query["user_id"]}),
        timeout=5,
    )
    assert late.status_code == 403


@pytest.mark.parametrize("body", [b"[1, 2]", b'"user_id"', b"42", b"null", b"{broken", b"", b"\xff\xfe"])
def test_a_callback_body_that_is_no_object_is_a_json_400(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any, body: bytes
) -> None:
    query = _query_of(_start(hub_side, bare_sim.url))
    answer = requests.post(query["callback_url"], data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert answer.status_code == 400 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "bad_request"


@pytest.mark.parametrize("field", ["user_id", "consumer_key", "consumer_secret", "key_permissions"])
def test_a_callback_with_wrong_types_is_refused_not_raised(
    bare_sim: WooCommerceSimulator, installer: WooCommerceConnector, hub_side: Any, field: str
) -> None:
    query = _query_of(_start(hub_side, bare_sim.url))
    data = {**FORGED, "user_id": query["user_id"], field: ["x"]}
    answer = requests.post(query["callback_url"], data=json.dumps(data), timeout=5)
    assert answer.status_code in (400, 403) and answer.headers["Content-Type"].startswith("application/json")


def test_callback_and_return_urls_must_be_https_outside_test_mode(hub_side: Any) -> None:
    plain = WooCommerceConnector({"app_url": hub_side.url}, MemoryStores("woocommerce"))  # http, not test mode
    hub_side.mount(plain)
    refused = _start(hub_side, "https://93.184.216.34")
    assert refused.status_code == 500 and "https" in refused.text


def test_https_app_url_gives_https_callback_and_return_urls() -> None:
    from flask import Flask

    app = Flask("https-hub")
    connector = WooCommerceConnector({"app_url": "https://hub.example"}, MemoryStores("woocommerce"))
    blueprint = connector.blueprint()
    assert blueprint is not None
    app.register_blueprint(blueprint)
    answer = app.test_client().get("/install/woocommerce", query_string={"store_url": "https://93.184.216.34"})
    assert answer.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    assert query["callback_url"].startswith("https://hub.example/install/woocommerce/callback?")
    assert query["return_url"].startswith("https://hub.example/install/woocommerce/return?")


def test_the_simulator_refuses_a_plain_http_callback_like_woocommerce(bare_sim: WooCommerceSimulator) -> None:
    params = {
        "app_name": "Refund Hub",
        "scope": "read_write",
        "user_id": "u1",
        "return_url": "http://hub.example/return",
        "callback_url": "http://hub.example/callback",
    }
    answer = requests.get(f"{bare_sim.url}/wc-auth/v1/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 401 and "The callback_url needs to be over SSL" in answer.text
    assert bare_sim.authorizations == [] and set(bare_sim.auth.keys) == {bare_sim.consumer_key}
