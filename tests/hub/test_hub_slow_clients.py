"""Slow clients: clients that trickle their headers must not starve the others, and a body shorter
than its Content-Length must end soon in a JSON 4xx — against the web tier as ``refund-hub serve``
runs it (gevent workers, docs/deployment.md), and at the webhook endpoint itself."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hub.cli.serve import APP_STACK, HEADER_TIMEOUT, READ_TIMEOUT, web_options
from hub.runtime.config import Config
from hub.testing.signing import hmac_base64
from tests.hub.conftest import World
from tests.serving import free_ports, serving

ROOT = Path(__file__).resolve().parents[2]
SECRET = "slow-clients-secret"
STORE = "slow-store"


def test_serve_defaults_to_gevent_workers_with_header_and_read_timeouts() -> None:
    options = web_options(Config())
    assert options["worker_class"] == "gevent"
    assert options["keepalive"] == HEADER_TIMEOUT  # bounds header reading in gunicorn's gevent worker
    assert options["worker_connections"] >= 200
    assert "threads" not in options  # would turn sync workers into gthread ones
    assert web_options(Config(), worker_class="gthread")["threads"] > 1
    assert 0 < READ_TIMEOUT <= 10


def test_the_web_master_loads_no_part_of_the_app_before_forking() -> None:
    """A gevent worker patches the standard library before it loads the app; whatever the master
    imported earlier keeps blocking calls (psycopg picks its wait function at import)."""
    code = (
        "import sys, hub.cli.serve as s; from hub.runtime.config import load_config; load_config(env={}); "
        "print(','.join(name for name in s.APP_STACK if name in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == ""
    assert "psycopg" in APP_STACK


def test_a_body_shorter_than_its_content_length_is_a_json_400(world: World) -> None:
    raw, headers = world.platform.request_refund("1001", 1000, send=False)
    announced = {"wsgi.input": io.BytesIO(raw[:10]), "CONTENT_LENGTH": str(len(raw))}
    answer = world.hub.client.post("/webhooks/sandbox", headers=headers, environ_overrides=announced)
    assert (answer.status_code, answer.json["error"]) == (400, "incomplete_body")
    assert f"10 of the {len(raw)} bytes" in answer.json["message"]
    assert world.hub.deliveries() == []


def test_a_body_read_that_times_out_is_a_json_400(world: World) -> None:
    class Stalled(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise TimeoutError("timed out")

    raw, headers = world.platform.request_refund("1001", 1000, send=False)
    stalled = {"wsgi.input": Stalled(), "CONTENT_LENGTH": str(len(raw))}
    answer = world.hub.client.post("/webhooks/sandbox", headers=headers, environ_overrides=stalled)
    assert (answer.status_code, answer.json["error"]) == (400, "incomplete_body")
    assert "TimeoutError" in answer.json["message"]


# --- the served web tier ------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    port: int
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from cryptography.fernet import Fernet

    tmp_path = tmp_path_factory.mktemp("slow-clients")
    [port] = free_ports(1)
    config = tmp_path / "refund-hub.json"
    config.write_text(
        json.dumps(
            {
                "hub": {
                    "instance_path": str(tmp_path / "instance"),
                    "public_url": f"http://127.0.0.1:{port}",
                    "secret_keys": [Fernet.generate_key().decode()],
                    "log_level": "WARNING",
                },
                "connectors": {"sandbox": {"webhook_secret": SECRET}},
                "stores": {STORE: {"connector": "sandbox", "settings": {"api_url": "http://127.0.0.1:9"}}},
            }
        )
    )
    url = f"http://127.0.0.1:{port}"
    # one web worker: under sync workers a single trickling socket would hold the whole web tier
    with serving(config, url, worker_threads=1) as log:
        yield Served(url, port, log)


class Trickle:
    """Slow-loris clients: a request line, then one header byte per socket every ``interval``."""

    def __init__(self, port: int, count: int, interval: float = 0.25) -> None:
        self.port, self.interval = port, interval
        self.sockets = [self._open() for _ in range(count)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        sock.sendall(b"POST /webhooks/sandbox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        return sock

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for index, sock in enumerate(self.sockets):
                try:
                    sock.sendall(b"x")
                except OSError:  # dropped by the server: an attacker reconnects
                    sock.close()
                    self.sockets[index] = self._open()

    def __enter__(self) -> Trickle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def _delivery(number: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"topic": "slow.probe", "n": number}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Sandbox-Signature": hmac_base64(SECRET, body),
        "X-Sandbox-Store": STORE,
        "X-Sandbox-Event-Id": f"slow-{number}",
    }


@pytest.mark.slow  # a `serve` process tree (one for the module): ≈ 10 s on two shared cores
def test_trickling_clients_do_not_starve_the_served_hub(served: Served) -> None:
    with Trickle(served.port, 20):
        time.sleep(0.5)  # every trickler is connected and has started its headers
        for number in range(5):
            started = time.monotonic()
            assert requests.get(f"{served.url}/healthz", timeout=5).status_code == 200
            body, headers = _delivery(number)
            answer = requests.post(f"{served.url}/webhooks/sandbox", data=body, headers=headers, timeout=5)
            assert answer.status_code == 200, answer.text
            assert answer.json()["result"] == "accepted"
            assert time.monotonic() - started < 1.0, f"probe {number} took {time.monotonic() - started:.2f} s"
    assert "before forking gevent workers" not in served.log.read_text()


@pytest.mark.slow
def test_a_short_body_against_the_served_hub_ends_in_a_json_400_within_seconds(served: Served) -> None:
    body, headers = _delivery(99)
    head = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    with socket.create_connection(("127.0.0.1", served.port), timeout=READ_TIMEOUT + 5) as sock:
        started = time.monotonic()
        sock.sendall(f"POST /webhooks/sandbox HTTP/1.1\r\nHost: x\r\n{head}Content-Length: 4096\r\n\r\n".encode())
        sock.sendall(body)  # far fewer than 4096 bytes, and the connection stays open
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            got = sock.recv(65536)
            if not got:
                break
            answer += got
        elapsed = time.monotonic() - started
    head_part, _, payload = answer.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 400"), answer
    assert b"application/json" in head_part
    assert json.loads(payload)["error"] == "incomplete_body"
    assert elapsed < READ_TIMEOUT + 3
