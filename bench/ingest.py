"""Ingest benchmark: the hub's real webhook path against a bare Flask endpoint, same server.

In one run, with wrk on 127.0.0.1 (-t2 -c32) against gunicorn with the hub's default settings
(gevent workers, ``hub.web_workers`` of them; ``--worker-class sync`` for a buffered tier):
  (a) a bare Flask endpoint that reads the body and answers 200 (the ceiling),
  (b) the hub: verify HMAC + store delivery and job in one transaction (SQLite, WAL,
      synchronous=FULL) + wake a worker through SqliteHuey, for new and for duplicate deliveries,
      with the ingest service that ``refund-hub serve`` starts beside gunicorn (it commits the
      deliveries of all web workers together; ``--no-ingest-service``: each commits its own),
  (c) the same on PostgreSQL + Redis.
Prints requests/s and p50/p99 for each, the ratios to (a), and how many deliveries the ingest
service stored per transaction. Usage: python bench/ingest.py [--seconds 10] [--databases sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import venv  # noqa: E402

venv.reexec()

import psycopg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PORT = 8799
SECRET = "bench-secret"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "refund_hub_bench"


def payload() -> bytes:
    """A 3 KB refund request, the size research/infra.md measured with."""
    body = {
        "topic": "refund.requested",
        "order_id": "1001",
        "request_id": "rq-bench",
        "amount": 2500,
        "reason": "damaged",
        "padding": "x" * 2900,
    }
    return json.dumps(body).encode()


def wrk_script(body: bytes, signature: str, duplicate: bool) -> str:
    event = '"dup-1"' if duplicate else "prefix .. counter"
    return f"""
local counter = 0
local prefix = ""
function setup(thread) thread:set("prefix", tostring(math.random(1, 1e9)) .. "-") end
function init(args) prefix = prefix end
wrk.method = "POST"
wrk.body = {json.dumps(body.decode())}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Sandbox-Signature"] = "{signature}"
wrk.headers["X-Sandbox-Store"] = "bench-store"
wrk.headers["X-Sandbox-Topic"] = "refund.requested"
function request()
  counter = counter + 1
  wrk.headers["X-Sandbox-Event-Id"] = {event}
  return wrk.format()
end
"""


def config_for(folder: Path, database_url: str, queue_url: str, ingest_service: bool = True) -> Path:
    from cryptography.fernet import Fernet

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "refund-hub.json"
    path.write_text(
        json.dumps(
            {
                "hub": {
                    "instance_path": str(folder / "instance"),
                    "database_url": database_url,
                    "queue_url": queue_url,
                    "secret_keys": [Fernet.generate_key().decode()],
                    "log_level": "WARNING",
                    "ingest_service": ingest_service,
                },
                "connectors": {"sandbox": {"webhook_secret": SECRET}},
                "gateways": {"sandbox": {"type": "sandbox", "base_url": "http://127.0.0.1:9", "api_key": "k"}},
                "stores": {
                    "bench-store": {
                        "connector": "sandbox",
                        "settings": {"api_url": "http://127.0.0.1:9"},
                        "credentials": {"token": "t"},
                    }
                },
            }
        )
    )
    return path


def wait_port_free(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} is still taken")


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def serve(
    app: str, env: dict[str, str], workers: int, worker_class: str, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    """gunicorn on PORT; its log goes to ``log`` and is shown if it does not get ready."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "-b",
        f"127.0.0.1:{PORT}",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    if worker_class == "gevent":
        command += ["--worker-connections", "1000"]
    wait_port_free(PORT)  # the previous server may still be letting go of it
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    try:
        wait_port(PORT)
        wait_ready(workers)
    except RuntimeError as exc:
        stop(process)
        raise RuntimeError(f"{exc}; gunicorn said:\n{log.read_text()[-3000:]}") from exc
    return process


def wait_ready(workers: int, timeout: float = 120.0) -> None:
    """Every worker has loaded the app: many health checks in a row answer quickly."""
    import requests

    deadline, streak = time.monotonic() + timeout, 0
    while streak < 4 * workers:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not get ready")
        try:
            started = time.monotonic()
            ok = requests.get(f"http://127.0.0.1:{PORT}/healthz", timeout=5).status_code == 200
            streak = streak + 1 if ok and time.monotonic() - started < 1.0 else 0
        except requests.RequestException:
            streak = 0
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(15)
    time.sleep(0.5)


def wrk(script: Path, seconds: int) -> tuple[float, float, float]:
    url = f"http://127.0.0.1:{PORT}/webhooks/sandbox"
    subprocess.run(["wrk", "-t2", "-c32", "-d3s", "-s", str(script), url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} non-2xx answers:\n{out}")
    return rate, _ms(out, "50%"), _ms(out, "99%")


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def fresh_pg() -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"


def migrate(config: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(config), "migrate"], env=env, check=True, capture_output=True
    )


def start_ingest_service(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """The process ``refund-hub serve`` starts beside gunicorn: it commits every web worker's deliveries."""
    socket_path = config.parent / "instance" / "ingest.sock"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(config), "ingest-service"],
            cwd=ROOT,
            env={**env, "REFUND_HUB_HUB__LOG_LEVEL": "INFO"},  # its closing line counts the transactions
            stdout=sink,
            stderr=sink,
        )
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        if time.monotonic() > deadline or process.poll() is not None:
            stop(process)
            raise RuntimeError(f"the ingest service did not start; it said:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    return process


def group_commit(log: Path) -> str:
    found = re.search(r"stopped: (\d+) deliveries in (\d+) transactions", log.read_text())
    if not found:
        return "no count in its log"
    count, rounds = map(int, found.groups())
    return f"{count} deliveries in {rounds} transactions ({count / max(1, rounds):.2f} per commit)"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: hub.web_workers)")
    # gevent is the hub's default (slow clients, docs/deployment.md); sync/gthread behind a buffering proxy
    parser.add_argument("--worker-class", choices=("gevent", "sync", "gthread"), default="gevent")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--no-ingest-service",
        dest="ingest_service",
        action="store_false",
        help="each web worker commits its own deliveries (hub.ingest.service = false)",
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="which hub setups to run (default both)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    venv.stop_unless(venv.missing_tool("wrk"))
    venv.databases_ready({name.strip() for name in args.databases.split(",")})
    sys.path.insert(0, str(ROOT))
    from hub.runtime.config import HubSettings
    from hub.testing.signing import hmac_base64

    args.workers = args.workers or HubSettings().web_workers

    body = payload()
    signature = hmac_base64(SECRET, body)
    folder = Path(tempfile.mkdtemp(prefix="rh-bench-"))
    scripts = {}
    for name, dup in (("unique", False), ("duplicate", True)):
        scripts[name] = folder / f"{name}.lua"
        scripts[name].write_text(wrk_script(body, signature, dup))
    results: dict[str, tuple[float, float, float]] = {}
    grouping: dict[str, str] = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    server_args = (args.workers, args.worker_class, args.threads)
    bare = serve("bench.apps:bare_app", env, *server_args, folder / "bare.log")
    try:
        results["a  bare Flask"] = wrk(scripts["unique"], args.seconds)
    finally:
        stop(bare)

    wanted = {name.strip() for name in args.databases.split(",")}
    setups = []
    if "sqlite" in wanted:
        setups.append(("sqlite", f"sqlite:///{folder / 'hub.db'}", f"sqlite:///{folder / 'queue.db'}"))
    if "postgres" in wanted:
        setups.append(("postgres+redis", fresh_pg(), "redis://127.0.0.1:6379/15"))
    for label, database_url, queue_url in setups:
        config = config_for(folder / label, database_url, queue_url, args.ingest_service)
        hub_env = {**env, "REFUND_HUB_CONFIG": str(config)}
        migrate(config, hub_env)
        service_log = folder / f"{label}-ingest-service.log"
        service = start_ingest_service(config, hub_env, service_log) if args.ingest_service else None
        server = serve("bench.apps:hub_app()", hub_env, *server_args, folder / f"{label}.log")
        try:
            results[f"b  hub ingest, {label}, new"] = wrk(scripts["unique"], args.seconds)
            results[f"b' hub ingest, {label}, duplicate"] = wrk(scripts["duplicate"], args.seconds)
        finally:
            stop(server)
            if service is not None:
                stop(service)
                grouping[label] = group_commit(service_log)
    shutil.rmtree(folder, ignore_errors=True)
    report(args, results, grouping)


def report(args: argparse.Namespace, results: dict[str, tuple[float, float, float]], grouping: dict[str, str]) -> None:
    ceiling = results["a  bare Flask"][0]
    threads = f" --threads {args.threads}" if args.worker_class == "gthread" else ""
    print(
        f"wrk -t2 -c32 -d{args.seconds}s, gunicorn -k {args.worker_class} -w {args.workers}{threads}, "
        "3 KB signed POST, 127.0.0.1"
    )
    print(f"{'run':40s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'ratio to a':>11s}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:40s} {rate:9.0f} {p50:8.1f} {p99:8.1f} {rate / ceiling:11.2f}")
    for label, line in grouping.items():
        print(f"ingest service, {label}: {line}")


if __name__ == "__main__":
    main()
