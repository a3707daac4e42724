"""Slow clients against the topology ``refund-hub serve`` starts, on 127.0.0.1 only.

Starts ``refund-hub serve`` (web tier + ingest service + worker + janitor) on a temporary
configuration, then for ``--seconds`` (30 by default) holds
  - ``--sockets`` slow-loris connections (200): each sends a request line and then one header
    byte every ``--interval`` seconds, and reconnects when the server drops it, as an attacker would;
  - ``--short-bodies`` clients (5) that announce a Content-Length, send less and wait, over and over;
and meanwhile measures, on fresh connections, ``GET /healthz`` and signed sandbox webhook
deliveries (``POST /webhooks/sandbox``, signed as the demo signs them). Prints p50/p99/max
latency and how many answered within ``--limit`` (1 s), and how the short bodies ended (each
must get a JSON 4xx within ``--short-limit`` seconds). Exits 1 if any probe did not answer in
time or any short body ended otherwise. Every loop is bounded by the deadline; the hub is stopped
at the end.

Usage: python bench/slowloris.py [--seconds 30] [--sockets 200] [--worker-class sync]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench.in_venv  # noqa: F401  (first: re-executes inside .venv)

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SECRET = "slowloris-secret"
STORE = "bench-store"


@dataclass
class Probes:
    """Latencies (s) of the probes of one kind; ``failed`` counts errors and wrong answers."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class Attack:
    opened: int = 0
    dropped_by_server: int = 0
    refused: int = 0
    short_bodies: list[tuple[float, int, str]] = field(default_factory=list)  # (seconds, status, body)
    short_failures: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, port: int) -> Path:
    from cryptography.fernet import Fernet

    path = folder / "refund-hub.json"
    config = {
        "hub": {
            "instance_path": str(folder / "instance"),
            "public_url": f"http://{HOST}:{port}",
            "secret_keys": [Fernet.generate_key().decode()],
            "log_level": "WARNING",
        },
        "connectors": {"sandbox": {"webhook_secret": SECRET}},
        "gateways": {"sandbox": {"type": "sandbox", "base_url": f"http://{HOST}:9", "api_key": "k"}},
        "stores": {STORE: {"connector": "sandbox", "settings": {"api_url": f"http://{HOST}:9"}}},
    }
    path.write_text(json.dumps(config))
    return path


def start_hub(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(config), "serve"],
            cwd=config.parent,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: whatever is left at the end is this run's
        )


def stop_hub(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def delivery(number: int) -> tuple[bytes, dict[str, str]]:
    """A sandbox delivery signed the way the demo signs them (base64 HMAC-SHA256 of the body)."""
    from hub.testing.signing import hmac_base64

    body = json.dumps({"topic": "bench.probe", "probe": number}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Sandbox-Signature": hmac_base64(SECRET, body),
        "X-Sandbox-Store": STORE,
        "X-Sandbox-Topic": "bench.probe",
        "X-Sandbox-Event-Id": f"probe-{os.getpid()}-{number}",
    }
    return body, headers


def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, workers: int, timeout: float = 90.0) -> None:
    """Every web worker has loaded the app: many quick answers in a row."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 4 * workers:
        if process.poll() is not None:
            raise SystemExit(f"refund-hub serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the hub did not get ready in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        started = time.monotonic()
        try:
            ok = request(port, "GET", "/healthz")[0] == 200
        except OSError:
            ok = False
            time.sleep(0.2)
        streak = streak + 1 if ok and time.monotonic() - started < 0.5 else 0


async def trickle(port: int, deadline: float, interval: float, attack: Attack) -> None:
    """One slow-loris client: a request line, then a header byte per interval, for ever (until the deadline)."""
    line = 0
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            attack.refused += 1
            await asyncio.sleep(0.2)
            continue
        attack.opened += 1
        try:
            writer.write(f"POST /webhooks/sandbox HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode())
            await writer.drain()
            while time.monotonic() < deadline:
                line += 1
                for byte in f"X-Trickle-{line}: {line}\r\n".encode():
                    try:  # the server answering or closing ends the wait at once
                        got = await asyncio.wait_for(reader.read(4096), timeout=interval)
                    except TimeoutError:
                        got = None
                    if got is not None or time.monotonic() >= deadline:
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                else:
                    continue
                if got is not None:
                    attack.dropped_by_server += 1
                break
        except OSError:
            attack.dropped_by_server += 1
        finally:
            writer.close()


async def short_body(port: int, deadline: float, limit: float, attack: Attack) -> None:
    """Announce 4096 bytes, send 100, wait for the answer (at most ``limit`` + 5 s); again until the deadline."""
    number = 0
    while time.monotonic() < deadline:
        number += 1
        body, headers = delivery(-number)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError as exc:
            attack.short_failures.append(f"connect: {exc}")
            await asyncio.sleep(0.5)
            continue
        try:
            writer.write(
                f"POST /webhooks/sandbox HTTP/1.1\r\nHost: {HOST}:{port}\r\n{head}Content-Length: 4096\r\n\r\n".encode()
            )
            writer.write(body[:100].ljust(100, b" "))
            await writer.drain()
            answer = await asyncio.wait_for(_read_answer(reader), timeout=limit + 5)
            elapsed = time.monotonic() - started
            status, text = _parse(answer)
            attack.short_bodies.append((elapsed, status, text))
            if not (400 <= status < 500 and elapsed <= limit and _json_error(text)):
                attack.short_failures.append(f"{elapsed:.1f} s, HTTP {status}: {text[:120]!r}")
        except (TimeoutError, OSError) as exc:
            attack.short_failures.append(f"no answer after {time.monotonic() - started:.1f} s ({type(exc).__name__})")
        finally:
            writer.close()
        await asyncio.sleep(0.2)


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    """The whole answer: its head, then as many body bytes as it announces (or up to EOF)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        got = await reader.read(65536)
        if not got:
            return answer
        answer += got
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        None,
    )
    while length is None or len(body) < length:
        got = await reader.read(65536)
        if not got:
            break
        body += got
    return head + b"\r\n\r\n" + body


def _parse(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace")
    except (IndexError, ValueError):
        return 0, answer.decode("utf-8", "replace")


def _json_error(text: str) -> bool:
    try:
        found = json.loads(text)
    except ValueError:
        return False
    return isinstance(found, dict) and {"error", "message"} <= found.keys()


def run_attack(port: int, args: argparse.Namespace, deadline: float, attack: Attack, ready: threading.Event) -> None:
    async def main() -> None:
        tasks = [asyncio.create_task(trickle(port, deadline, args.interval, attack)) for _ in range(args.sockets)]
        while attack.opened < args.sockets and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        ready.set()
        tasks += [
            asyncio.create_task(short_body(port, deadline, args.short_limit, attack)) for _ in range(args.short_bodies)
        ]
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
    finally:
        ready.set()


def probe(port: int, deadline: float, args: argparse.Namespace) -> dict[str, Probes]:
    """Alternately /healthz and a signed delivery, each on a fresh connection, until the deadline."""
    found = {"GET /healthz": Probes(), "POST /webhooks/sandbox": Probes()}
    number = 0
    while time.monotonic() < deadline - 1:
        number += 1
        kind = "GET /healthz" if number % 2 else "POST /webhooks/sandbox"
        started = time.monotonic()
        try:
            if number % 2:
                status, text = request(port, "GET", "/healthz")
                ok = status == 200
            else:
                status, text = request(port, "POST", "/webhooks/sandbox", *delivery(number))
                ok = status == 200 and json.loads(text).get("result") == "accepted"
            elapsed = time.monotonic() - started
            found[kind].latencies.append(elapsed)
            if not ok:
                found[kind].failures.append(f"HTTP {status}: {text[:120]!r}")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            found[kind].latencies.append(time.monotonic() - started)
            found[kind].failures.append(f"{type(exc).__name__}: {exc}")
        time.sleep(args.every)
    return found


def report(found: dict[str, Probes], attack: Attack, args: argparse.Namespace, topology: str) -> bool:
    print(
        f"{topology}; {args.sockets} slow-loris sockets (a header byte every {args.interval:g} s) and "
        f"{args.short_bodies} short-body clients for {args.seconds} s, 127.0.0.1"
    )
    within_label = f"within {args.limit:g} s"
    print(
        f"{'probe':24s} {'count':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {within_label:>10s} {'failed':>7s}"
    )
    passed = True
    for kind, probes in found.items():
        times = sorted(probes.latencies)
        within = sum(1 for t in times if t <= args.limit)
        p50 = statistics.median(times) if times else float("nan")
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
        top = times[-1] if times else float("nan")
        figures = f"{p50 * 1000:8.1f} {p99 * 1000:8.1f} {top * 1000:8.1f}"
        print(f"{kind:24s} {len(times):6d} {figures} {within:10d} {len(probes.failures):7d}")
        for failure in probes.failures[:3]:
            print(f"  failed: {failure}")
        passed &= bool(times) and within == len(times) and not probes.failures
    answered = attack.short_bodies
    statuses = sorted({status for _, status, _ in answered})
    slowest = max((t for t, _, _ in answered), default=float("nan"))
    print(
        f"short bodies: {len(answered)} answered (HTTP {', '.join(map(str, statuses)) or '-'}), "
        f"slowest {slowest:.1f} s, {len(attack.short_failures)} not a JSON 4xx within {args.short_limit:g} s"
    )
    for failure in attack.short_failures[:3]:
        print(f"  failed: {failure}")
    if answered:
        print(f"  e.g. {answered[0][2].strip()[:160]}")
    print(
        f"slow-loris connections: {attack.opened} opened, {attack.dropped_by_server} dropped by the server, "
        f"{attack.refused} refused"
    )
    passed &= bool(answered) and not attack.short_failures
    print("PASS" if passed else "FAIL")
    return passed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30, help="how long the attack lasts (default 30)")
    parser.add_argument("--sockets", type=int, default=200, help="slow-loris connections (default 200)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between header bytes (default 0.5)")
    parser.add_argument("--short-bodies", type=int, default=5, help="short Content-Length clients (default 5)")
    parser.add_argument("--short-limit", type=float, default=10.0, help="seconds a short body may take to be refused")
    parser.add_argument("--limit", type=float, default=1.0, help="seconds a probe may take (default 1)")
    parser.add_argument("--every", type=float, default=0.1, help="seconds between probes (default 0.1)")
    parser.add_argument("--workers", type=int, default=None, help="web workers (default: hub.web_workers)")
    parser.add_argument("--worker-class", default=None, help="hub.web_worker_class (default: the configured default)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    from hub.runtime.config import HubSettings

    defaults = HubSettings()
    workers = args.workers or defaults.web_workers
    worker_class = args.worker_class or defaults.web_worker_class
    folder = Path(tempfile.mkdtemp(prefix="rh-slowloris-"))
    port = free_port()
    config = write_config(folder, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFUND_HUB_")}
    env.update(PYTHONPATH=str(ROOT), REFUND_HUB_HUB__WEB_WORKERS=str(workers))
    env["REFUND_HUB_HUB__WEB_WORKER_CLASS"] = worker_class
    log = folder / "serve.log"
    hub = start_hub(config, env, log)
    try:
        wait_ready(port, hub, log, workers)
        for number in range(2 * workers):  # every worker has served a delivery before the attack
            request(port, "POST", "/webhooks/sandbox", *delivery(10_000 + number))
        attack = Attack()
        deadline = time.monotonic() + args.seconds
        ready = threading.Event()
        attacker = threading.Thread(target=run_attack, args=(port, args, deadline, attack, ready), daemon=True)
        attacker.start()
        ready.wait(args.seconds)
        found = probe(port, deadline, args)
        attacker.join(args.short_limit + 10)
        topology = f"refund-hub serve, web tier {worker_class} x {workers}"
        passed = report(found, attack, args, topology)
    finally:
        stop_hub(hub)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
