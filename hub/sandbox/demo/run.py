"""``refund-hub demo``: drive the running hub through the embedded default's simulators like real
traffic (Shopify returns of orders paid through Shopify Payments, Stripe, PayPal and Square, a
WooCommerce refund request and an Adobe Commerce RMA), then print a table of what happened to each.
Everything goes over HTTP: seeding the simulators, the signed webhooks they fire, and the admin API
the table is read from."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from hub.ledger import states
from hub.runtime.config import Config
from hub.sandbox.demo.scenarios import Played, Sandbox, money
from hub.testing.signing import hmac_base64

# where a refund rests until someone acts: the demo waits for these
SETTLED = states.FINAL | {states.REVIEW, states.OFFERED}
COLUMNS = ("scenario", "order", "amount", "sent", "state", "route", "gateway refund", "money moved", "hub refund", "")


def run_demo(config: Config, url: str | None = None, timeout: float = 30.0) -> int:
    """Play every scenario against the hub at ``url`` (default ``hub.public_url``); 0 only if each
    ended as expected and the forged delivery was refused."""
    hub_url = (url or config.hub.public_url).rstrip("/")
    sandbox = Sandbox(config)
    admin = {"Authorization": f"Bearer {config.hub.admin_token}"}
    try:
        played = [sandbox.play(sc) for sc in sandbox.scenarios]
        forged = _forged(hub_url, sandbox.store_id)
        found = _settled(hub_url, admin, {(p.store_id, p.order_id) for p in played}, timeout)
    except requests.RequestException as exc:
        Console(stderr=True).print(f"[red]demo stopped:[/red] {exc}\nIs `refund-hub serve` running on this config?")
        return 1
    rows: list[list[str]] = []
    failures = 0
    for p in played:
        p.refunds = found.get((p.store_id, p.order_id), [])
        sandbox.look(p)
        problems = p.problems()
        failures += bool(problems)
        rows.append(_row(p, problems))
    refused = forged.status_code == 401
    failures += not refused
    rows.append(
        ["forged signature", "—", "—", "1", f"HTTP {forged.status_code}", "—", "—", "none", "—"]
        + ["✓" if refused else "✗ expected HTTP 401"]
    )
    _print(rows)
    return 0 if failures == 0 else 1


def _forged(hub_url: str, store_id: str) -> requests.Response:
    """A returns/request signed with a secret that is not the app's: the hub must answer 401."""
    body = json.dumps({"id": 1, "admin_graphql_api_id": "gid://shopify/Return/1", "status": "requested"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": hmac_base64("not-the-app-secret", body),
        "X-Shopify-Topic": "returns/request",
        "X-Shopify-Shop-Domain": store_id,
        "X-Shopify-Event-Id": "forged-1",
    }
    return requests.post(f"{hub_url}/webhooks/shopify", data=body, headers=headers, timeout=5)


def _settled(
    hub_url: str, admin: dict[str, str], orders: set[tuple[str, str]], timeout: float
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The hub refunds of ``orders`` (store id, order id) once each order has some and all rest,
    unchanged over two reads (a late duplicate or echo would show up as an extra refund)."""
    deadline = time.monotonic() + timeout
    previous: list[tuple[str, str]] | None = None
    while True:
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for store_id in sorted({store for store, _ in orders}):
            listed = requests.get(
                f"{hub_url}/api/refunds", headers=admin, params={"limit": "500", "store_id": store_id}, timeout=5
            )
            listed.raise_for_status()
            for refund in listed.json()["refunds"]:
                if (store_id, refund["order_id"]) in orders:
                    found.setdefault((store_id, refund["order_id"]), []).append(refund)
        rows = [r for rs in found.values() for r in rs]
        done = found.keys() == orders and all(r["state"] in SETTLED for r in rows)
        snapshot = sorted((r["id"], r["state"]) for r in rows)
        if (done and snapshot == previous) or time.monotonic() > deadline:
            return found
        previous = snapshot if done else None
        time.sleep(0.5)


def _row(p: Played, problems: list[str]) -> list[str]:
    refund = p.refunds[0] if p.refunds else {}
    return [
        p.scenario.title,
        p.order_id,
        money(p.scenario.amount),
        str(p.scenario.deliveries),
        refund.get("state", "not received") + (f" ×{len(p.refunds)}" if len(p.refunds) > 1 else ""),
        refund.get("route") or "—",
        refund.get("gateway_refund_id") or "—",
        p.moved(),
        refund.get("id", "—"),
        "✗ " + "; ".join(problems) if problems else "✓",
    ]


def _print(rows: list[list[str]]) -> None:
    table = Table(
        title="Refund Hub demo: Shopify, WooCommerce and Adobe Commerce refunds through the platform, "
        "Stripe, PayPal and Square"
    )
    for header in COLUMNS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(width=220).print(table)
