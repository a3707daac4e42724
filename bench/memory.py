"""Memory benchmark: the resident size of one web worker of ``refund-hub serve``, against a bare
Flask app's worker under the same gunicorn settings, measured in the same run.

The hub runs on the starter configuration ``refund-hub init`` writes (the embedded default:
SQLite, the six simulators), on free ports in a temporary folder, with one gevent web worker.
Before reading its size the worker serves what a web worker serves: /healthz, a Shopify
``refunds/create`` webhook and a Stripe ``charge.refund.updated`` status webhook, each signed
with the configuration's secrets, and the console's login page, sign-in and refunds page. The
bare app serves /healthz and an unsigned webhook POST. Sizes are VmRSS from /proc/<pid>/status
of the gunicorn worker process (not its master). Usage: python bench/memory.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import venv  # noqa: E402

venv.reexec()

import requests  # noqa: E402

from hub.cli.starter import PORTS, STORE, write_starter  # noqa: E402
from hub.runtime.bootstrap import write_key_file  # noqa: E402
from hub.runtime.config import Config, load_config  # noqa: E402
from hub.testing import served  # noqa: E402
from hub.testing.signing import hmac_base64  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EMAIL = "bench@example.com"
PASSWORD = "bench-memory-password-1"
# Target of issue 18: a web worker of at most this many MB.
TARGET_MB = 60.0


def free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> Iterator[int]:
    for child in children(pid):
        yield child
        yield from descendants(child)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if not found:
        raise RuntimeError(f"no VmRSS for process {pid}")
    return int(found.group(1)) / 1024


def private_mb(pid: int) -> float:
    """The worker's own pages (Private_Clean + Private_Dirty of /proc/<pid>/smaps_rollup): what
    one more worker adds, where RSS also counts the pages it shares with its master."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    kb = sum(int(m) for m in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+) kB", rollup, re.MULTILINE))
    return kb / 1024


def web_workers(master: int) -> list[int]:
    """The gunicorn workers: the children of the web process (which is the gunicorn master)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = children(master)
        if workers:
            return workers
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    try:
        served.wait_healthy(url, process, 90, log)
    except served.NotServing as exc:
        raise SystemExit(str(exc)) from None


def bench_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_HUB_")}
    env.update(REFUND_HUB_HUB__WEB_WORKERS="1", REFUND_HUB_HUB__WORKER_THREADS="2", PYTHONPATH=str(ROOT))
    return env


def shopify_webhook(config: Config, url: str) -> int:
    body = (FIXTURES / "shopify" / "webhook_refunds_create.json").read_bytes()
    secret = str(config.connectors["shopify"]["api_secret"])
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": hmac_base64(secret, body),
        "X-Shopify-Topic": "refunds/create",
        "X-Shopify-Shop-Domain": STORE,
        "X-Shopify-Webhook-Id": f"bench-memory-{time.time_ns()}",
    }
    return requests.post(f"{url}/webhooks/shopify", data=body, headers=headers, timeout=10).status_code


def stripe_webhook(config: Config, url: str) -> int:
    """A ``charge.refund.updated`` event, signed as Stripe signs (t=<unix>,v1=<hex HMAC>)."""
    event = {
        "id": f"evt_bench_{time.time_ns()}",
        "object": "event",
        "type": "charge.refund.updated",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": "re_bench",
                "object": "refund",
                "amount": 100,
                "currency": "usd",
                "status": "succeeded",
                "payment_intent": "pi_bench",
                "metadata": {},
            }
        },
    }
    body = json.dumps(event).encode()
    stamp = str(int(time.time()))
    secret = str(config.gateways["stripe"]["webhook_secret"]).encode()
    signature = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"}
    return requests.post(f"{url}/webhooks/gateway/stripe", data=body, headers=headers, timeout=10).status_code


def console(url: str) -> list[int]:
    """The login page, a sign-in through its form, then the refunds page."""
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not token:
        raise SystemExit("the login page has no CSRF token")
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    signed_in = session.post(f"{url}/login", data=form, timeout=10, allow_redirects=False)
    refunds = session.get(f"{url}/refunds", timeout=10)
    return [page.status_code, signed_in.status_code, refunds.status_code]


def measure_hub(folder: Path) -> tuple[tuple[float, float], list[str]]:
    hub_port, *sim_ports = free_ports(1 + len(PORTS))
    path = folder / "refund-hub.toml"
    write_starter(path, hub_port=hub_port, ports=dict(zip(PORTS, sim_ports, strict=True)))  # `refund-hub init`
    config = load_config(path, env={})
    write_key_file(config.hub.instance_path)
    env = {**bench_env(), "REFUND_HUB_NEW_PASSWORD": PASSWORD}
    hub = [sys.executable, "-m", "hub", "--config", str(path)]
    subprocess.run([*hub, "migrate"], cwd=folder, env=env, check=True, capture_output=True)
    subprocess.run([*hub, "user", "add", EMAIL, "--all-stores"], cwd=folder, env=env, check=True, capture_output=True)
    log = folder / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [*hub, "serve"], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = config.hub.public_url
        wait_healthy(url, serve, log)
        answers = [
            f"/healthz {requests.get(f'{url}/healthz', timeout=10).status_code}",
            f"Shopify refunds/create webhook {shopify_webhook(config, url)}",
            f"Stripe charge.refund.updated webhook {stripe_webhook(config, url)}",
            "console /login, sign-in, /refunds " + " ".join(map(str, console(url))),
        ]
        masters = [pid for pid in descendants(serve.pid) if "run_web" in cmdline(pid)]
        if not masters:
            raise SystemExit("no web process (run_web) under refund-hub serve")
        worker = max(web_workers(masters[0]), key=rss_mb)
        return (rss_mb(worker), private_mb(worker)), answers
    finally:
        served.stop_tree(serve)


def measure_bare(folder: Path) -> tuple[float, float]:
    """bench/apps.py's bare Flask app under gunicorn's gevent worker, one worker."""
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    log = folder / "bare.log"
    command = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", f"127.0.0.1:{port}"]
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*command, "bench.apps:bare_app"],
            cwd=ROOT,
            env=bench_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(url, server, log)
        requests.post(f"{url}/webhooks/bench", data=b"{}", timeout=10).raise_for_status()
        worker = max(web_workers(server.pid), key=rss_mb)
        return rss_mb(worker), private_mb(worker)
    finally:
        served.stop_tree(server)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="refund-hub-memory-") as tmp:
        (hub_mb, hub_own), answers = measure_hub(Path(tmp))
        bare_mb, bare_own = measure_bare(Path(tmp))
    for answer in answers:
        print(f"served: {answer}")
    print(f"{'one gunicorn gevent worker':28s} {'RSS MB':>8s} {'private MB':>11s}")
    print(f"{'bare Flask (baseline)':28s} {bare_mb:8.1f} {bare_own:11.1f}")
    print(f"{'refund-hub web':28s} {hub_mb:8.1f} {hub_own:11.1f}   (target: RSS <= {TARGET_MB:.0f} MB)")
    print(f"{'ratio hub / bare Flask':28s} {hub_mb / bare_mb:8.2f} {hub_own / bare_own:11.2f}")


if __name__ == "__main__":
    main()
