"""``refund-hub demo``: drive the running hub through its simulators like real traffic, then
print a table of what happened to each delivery. Everything goes over HTTP: seeding the
simulators, the signed webhooks they fire, and the admin API the table is read from."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from hub.config import Config
from hub.testing.signing import hmac_base64

FINAL = {"written_back", "denied", "review", "failed", "recorded", "offered"}


@dataclass
class Scenario:
    title: str
    order_id: str
    amount: int
    refund: int
    label: str = "sandbox"
    repeat: int = 1


def run_demo(config: Config, url: str | None = None, timeout: float = 30.0) -> int:
    hub_url = (url or config.hub.public_url).rstrip("/")
    ports = config.sandbox.get("ports", {})
    platform = f"http://{config.sandbox.get('host', '127.0.0.1')}:{ports['sandbox-platform']}"
    gateway = f"http://{config.sandbox.get('host', '127.0.0.1')}:{ports['sandbox-gateway']}"
    admin = {"Authorization": f"Bearer {config.hub.admin_token}"}
    run = uuid.uuid4().hex[:6]
    scenarios = [
        Scenario("gateway refund, delivered twice", f"D{run}-1", 5000, 2500, repeat=2),
        Scenario("full refund through the gateway", f"D{run}-2", 1999, 1999),
        Scenario("platform moves the money", f"D{run}-3", 4200, 4200, label="platform"),
        Scenario("above auto-approve: to review", f"D{run}-4", 90000, 80000),
    ]
    rows: list[list[str]] = []
    for sc in scenarios:
        reference = None
        if sc.label == "sandbox":
            reference = requests.post(f"{gateway}/__sim/payments", json={"amount": sc.amount}, timeout=5).json()["id"]
        requests.post(
            f"{platform}/__sim/orders",
            json={"id": sc.order_id, "amount": sc.amount, "label": sc.label, "reference": reference},
            timeout=5,
        ).raise_for_status()
        event_id = f"evt-{sc.order_id}"
        for _ in range(sc.repeat):
            requests.post(
                f"{platform}/__sim/refund-requests",
                json={
                    "order_id": sc.order_id,
                    "amount": sc.refund,
                    "request_id": f"rq-{sc.order_id}",
                    "event_id": event_id,
                },
                timeout=5,
            ).raise_for_status()
    forged = requests.post(
        f"{hub_url}/webhooks/sandbox",
        data=b'{"topic":"refund.requested"}',
        timeout=5,
        headers={
            "Content-Type": "application/json",
            "X-Sandbox-Signature": hmac_base64("wrong", b"x"),
            "X-Sandbox-Store": "sandbox-store",
            "X-Sandbox-Event-Id": "forged",
        },
    )
    refunds = _wait(hub_url, admin, {sc.order_id for sc in scenarios}, timeout)
    for sc in scenarios:
        found = [r for r in refunds if r["order_id"] == sc.order_id]
        for r in found or [{}]:
            rows.append(
                [
                    sc.title,
                    sc.order_id,
                    f"{sc.refund / 100:.2f}",
                    str(sc.repeat),
                    r.get("state", "—"),
                    r.get("route") or "—",
                    r.get("gateway_refund_id") or "—",
                    r.get("id", "not received"),
                ]
            )
    rows.append(
        ["forged signature", "—", "—", "1", f"HTTP {forged.status_code}", "—", "—", forged.json().get("error", "")]
    )
    _print(rows)
    expected = {"written_back", "review"}
    ok = forged.status_code == 401 and all(
        len([r for r in refunds if r["order_id"] == sc.order_id]) == 1 for sc in scenarios
    )
    ok = ok and all(r["state"] in expected for r in refunds)
    return 0 if ok else 1


def _wait(hub_url: str, admin: dict[str, str], orders: set[str], timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        listed = requests.get(f"{hub_url}/api/refunds", headers=admin, params={"limit": 500}, timeout=5).json()
        mine = [r for r in listed["refunds"] if r["order_id"] in orders]
        if {r["order_id"] for r in mine} == orders and all(r["state"] in FINAL for r in mine):
            break
        time.sleep(0.5)
    return mine


def _print(rows: list[list[str]]) -> None:
    table = Table(title="Refund Hub demo: what happened to each delivery")
    for header in ("scenario", "order", "amount", "sent", "state", "route", "gateway refund", "hub refund"):
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)
