"""The integration activation end to end against the simulator, and the store URL checks."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask import redirect as flask_redirect
from flask import request as flask_request
from werkzeug.serving import make_server

from connectors.magento import MagentoConnector
from connectors.magento.client import MagentoClient
from connectors.magento.install import PENDING, PENDING_TTL, UnsafeURL, safe_base_url
from connectors.magento.network import pinned, pinned_adapter
from hub.errors import PlatformError
from hub.sandbox.simserver import SimulatorServer
from hub.testing.stores import MemoryStores


class Hub:
    """The connector's blueprint mounted in a Flask app on a real port, like the hub's app factory does."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.stores = MemoryStores("magento")
        self.connector = MagentoConnector(settings, self.stores)
        app = Flask("hub")
        blueprint = self.connector.blueprint()
        assert blueprint is not None
        app.register_blueprint(blueprint)
        self.server = SimulatorServer(app).start()
        self.url = self.server.url


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub({"test_mode": True, "allow_private_networks": True})  # the simulator is on 127.0.0.1
    yield running
    running.server.stop()


def test_activation_end_to_end(hub: Hub, open_sim: Any) -> None:
    hub.stores.add(open_sim.store_id, settings={"edition": "open_source", "refund_request_status": "refund_me"})
    result = open_sim.activate_integration(f"{hub.url}/install/magento/callback", f"{hub.url}/install/magento/identity")
    assert (result["callback_status"], result["identity_status"], result["active"]) == (200, 302, True)
    assert result["location"] == f"{open_sim.url}/admin/admin/integration/loginSuccessCallback"
    store = hub.stores.get(open_sim.store_id)
    assert store is not None
    assert store.settings["base_url"] == open_sim.url and store.settings["refund_request_status"] == "refund_me"
    assert set(store.credentials) == {"consumer_key", "consumer_secret", "access_token", "access_token_secret"}
    assert store.credentials["consumer_key"] == result["consumer_key"]
    order = open_sim.add_order([{"sku": "TEE", "price": 1000}], last_trans_id="pi_i1")
    assert MagentoClient(store).get(f"orders/{order['entity_id']}")["entity_id"] == order["entity_id"]


def test_identity_link_refusals(hub: Hub, open_sim: Any) -> None:
    unknown = requests.get(f"{hub.url}/install/magento/identity", params={"oauth_consumer_key": "nope"}, timeout=5)
    assert unknown.status_code == 404
    consumer = open_sim.oauth.new_consumer()
    posted = requests.post(
        f"{hub.url}/install/magento/callback",
        timeout=5,
        data={
            "oauth_consumer_key": consumer.key,
            "oauth_consumer_secret": consumer.secret,
            "store_base_url": open_sim.url,
            "oauth_verifier": consumer.verifier,
        },
    )
    assert posted.status_code == 200
    elsewhere = requests.get(
        f"{hub.url}/install/magento/identity",
        timeout=5,
        allow_redirects=False,
        params={"oauth_consumer_key": consumer.key, "success_call_back": "https://evil.example.com/steal"},
    )
    assert elsewhere.status_code == 400 and hub.stores.all() == []
    incomplete = requests.post(f"{hub.url}/install/magento/callback", data={"oauth_consumer_key": "x"}, timeout=5)
    assert incomplete.status_code == 400


def test_callback_refuses_unsafe_store_urls_outside_test_mode() -> None:
    strict = Hub({})
    try:
        posted = requests.post(
            f"{strict.url}/install/magento/callback",
            timeout=5,
            data={
                "oauth_consumer_key": "k",
                "oauth_consumer_secret": "s",
                "oauth_verifier": "v",
                "store_base_url": "http://127.0.0.1:8080/",
            },
        )
        assert posted.status_code == 400
    finally:
        strict.server.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://shop.example.com",
        "https://127.0.0.1",
        "https://10.1.2.3/",
        "https://169.254.169.254",
        "https://user:pw@93.184.216.34",
        "https://localhost:8443",
        "ftp://93.184.216.34",
    ],
)
def test_unsafe_base_urls(url: str) -> None:
    with pytest.raises(UnsafeURL):
        safe_base_url(url, test_mode=False)


def test_safe_base_urls() -> None:
    assert safe_base_url("https://93.184.216.34/magento/", test_mode=False) == "https://93.184.216.34/magento"
    assert safe_base_url("http://127.0.0.1:5000/", test_mode=True, allow_private=True) == "http://127.0.0.1:5000"


def test_io_events_registration_challenge(hub: Hub) -> None:
    answer = requests.get(f"{hub.url}/webhooks/magento", params={"challenge": "abc123"}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"challenge": "abc123"}


# -- the token exchange calls a URL an unauthenticated request named: no SSRF, no DNS rebinding ----------


class Trap:
    """A server that must never be reached: it counts what arrives."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.hits: list[str] = []
        app = Flask("trap")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def anything(path: str) -> tuple[str, int]:
            self.hits.append(f"{flask_request.method} /{path}")
            return "oauth_token=stolen&oauth_token_secret=stolen", 200

        self.server = SimulatorServer(app, host=host, port=port).start()
        self.url = self.server.url


@pytest.fixture
def trap() -> Iterator[Trap]:
    running = Trap()
    yield running
    running.server.stop()


def callback(hub: Hub, base_url: str, consumer: Any) -> requests.Response:
    """What Magento POSTs to the callback URL when the merchant activates the integration."""
    return requests.post(
        f"{hub.url}/install/magento/callback",
        timeout=5,
        data={
            "oauth_consumer_key": consumer.key,
            "oauth_consumer_secret": consumer.secret,
            "store_base_url": base_url,
            "oauth_verifier": consumer.verifier,
        },
    )


def activate(hub: Hub, base_url: str, consumer: Any) -> requests.Response:
    """Magento's two steps: the callback with the consumer, then the identity link."""
    posted = callback(hub, base_url, consumer)
    assert posted.status_code == 200, posted.text
    return requests.get(
        f"{hub.url}/install/magento/identity",
        params={"oauth_consumer_key": consumer.key},
        timeout=10,
        allow_redirects=False,
    )


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """``name`` resolves to each of ``answers`` in turn (the last one from then on); other names
    resolve as usual. Returns the log of the answers given."""
    real = socket.getaddrinfo
    given: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        address = answers[min(len(given), len(answers) - 1)]
        given.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return given


def test_the_exchange_never_follows_a_redirect(hub: Hub, trap: Trap) -> None:
    store = Flask("store")

    @store.post("/oauth/token/request")
    def elsewhere() -> Any:  # a hostile "store" sends the hub on to an internal service
        return flask_redirect(f"{trap.url}/latest/meta-data/iam", code=307)

    server = SimulatorServer(store).start()
    try:
        answer = activate(hub, server.url, SimpleNamespace(key="ck", secret="cs", verifier="v"))
    finally:
        server.stop()
    assert trap.hits == [] and hub.stores.all() == []
    assert answer.status_code == 502 and "TooManyRedirects" in answer.text


def test_the_exchange_connects_to_the_address_it_resolved_once(
    hub: Hub, open_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same port on 127.0.0.2: where a second DNS answer (rebinding) would send the hub
    port = int(open_sim.url.rsplit(":", 1)[1])
    rebound = Trap(host="127.0.0.2", port=port)
    try:
        given = fake_dns(monkeypatch, "magento.test", ["127.0.0.1", "127.0.0.2"])
        answer = activate(hub, f"http://magento.test:{port}", open_sim.oauth.new_consumer())
        assert answer.status_code == 200, answer.text
        assert given == ["127.0.0.1"] and rebound.hits == []  # one lookup for both token requests
        store = hub.stores.get(f"magento.test:{port}")  # the Host header stayed the store's name:
        assert store is not None and store.credentials["access_token"]  # OAuth signatures matched
    finally:
        rebound.server.stop()


@pytest.mark.parametrize("internal", ["127.0.0.1", "10.0.0.8", "169.254.169.254", "100.64.0.1", "0.0.0.0"])
def test_a_store_that_resolves_to_a_private_address_is_refused(
    trap: Trap, monkeypatch: pytest.MonkeyPatch, internal: str
) -> None:
    # test_mode (http allowed) without allow_private_networks: public at the callback, private after
    strict = Hub({"test_mode": True})
    try:
        port = int(trap.url.rsplit(":", 1)[1])
        fake_dns(monkeypatch, "rebind.test", ["93.184.216.34", internal])
        answer = activate(strict, f"http://rebind.test:{port}", SimpleNamespace(key="ck", secret="cs", verifier="v"))
        assert answer.status_code == 400 and "non-public address" in answer.text
        assert trap.hits == [] and strict.stores.all() == []
    finally:
        strict.server.stop()


def test_https_to_a_pinned_address_keeps_the_name_for_sni_and_the_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path, "magento.test")
    seen: list[str] = []
    app = Flask("tls-store")

    @app.get("/ping")
    def ping() -> str:
        seen.append(flask_request.host)
        return "pong"

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        given = fake_dns(monkeypatch, "magento.test", ["127.0.0.1", "127.0.0.2"])
        url = f"https://magento.test:{server.server_port}/ping"
        session = pinned(requests.Session(), pinned_adapter(url, allow_private=True))
        assert session.get(url, verify=str(cert), timeout=5).text == "pong"
        assert session.get(url, verify=str(cert), timeout=5).text == "pong"
        assert given == ["127.0.0.1"] and seen == [f"magento.test:{server.server_port}"] * 2
        with pytest.raises(requests.exceptions.InvalidURL):  # the session reaches no other host
            session.get(f"https://other.test:{server.server_port}/ping", verify=str(cert), timeout=5)
    finally:
        server.shutdown()


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    private = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def test_pending_activations_expire(hub: Hub) -> None:
    posted = callback(hub, "http://127.0.0.1:9/", SimpleNamespace(key="ck-expiring", secret="s", verifier="v"))
    assert posted.status_code == 200
    _, expires = hub.stores._state[(PENDING, "ck-expiring")]  # an unauthenticated request made it
    assert expires is not None and expires - time.time() <= PENDING_TTL


def test_an_activated_stores_url_is_checked_on_every_use(trap: Trap, monkeypatch: pytest.MonkeyPatch) -> None:
    # saved by an activation while public; the name now points inside (rebinding after the fact)
    port = int(trap.url.rsplit(":", 1)[1])
    fake_dns(monkeypatch, "rebind.test", ["127.0.0.1"])
    settings = {"base_url": f"http://rebind.test:{port}", "installed_at": "2026-01-01 00:00:00"}
    credentials = {"bearer_token": "t"}
    stores = MemoryStores("magento")
    store = stores.add("rebind.test", settings=settings, credentials=credentials)
    connector = MagentoConnector({"test_mode": True}, stores)
    with pytest.raises(PlatformError, match="non-public"):
        connector.client(store)
    assert trap.hits == []
    # a store from the configuration file is the operator's: its URL may be internal
    declared = stores.add("declared", settings={"base_url": trap.url}, credentials=credentials)
    with connector.client(declared) as client, pytest.raises(PlatformError):  # the trap answers no JSON
        client.get("orders/1")
    assert trap.hits == ["GET /rest/V1/orders/1"]
