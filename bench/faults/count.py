"""The loss figures, each counted where the truth is: money at the simulators' own ledgers, the
platforms' records on the platform simulators, deliveries against what the simulators were
answered 2xx for, refund states in the hub's database."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa

from hub.contracts import Headers, Inbound
from hub.db.tables import audit, deliveries, duties, jobs, refunds
from hub.ledger import states
from hub.runtime.bootstrap import Hub
from hub.sandbox.base import Simulator
from hub.sandbox.gatewaysim import FAILED, SimLedger

HUB_ID = re.compile(r"rf_[0-9a-f]{24}")
PERSON_WAITING = frozenset({states.REVIEW, states.OFFERED})
NEVER_STUCK = states.FINAL | PERSON_WAITING


@dataclass
class Losses:
    double_refunds: list[str] = field(default_factory=list)  # one line per extra payout
    over_refunds: list[str] = field(default_factory=list)
    lost_deliveries: list[str] = field(default_factory=list)
    stuck_refunds: list[str] = field(default_factory=list)
    double_writebacks: list[str] = field(default_factory=list)
    suspects: set[str] = field(default_factory=set)  # hub refund ids behind any of them

    def figures(self) -> dict[str, int]:
        return {
            "double refunds": len(self.double_refunds),
            "over-refunds": len(self.over_refunds),
            "lost deliveries": len(self.lost_deliveries),
            "stuck refunds": len(self.stuck_refunds),
            "double write-backs": len(self.double_writebacks),
        }


def ledgers(sims: dict[str, Simulator]) -> Iterator[tuple[str, SimLedger]]:
    """Every money ledger among the simulators: the gateways', Shopify Payments', Magento's own."""
    for name, sim in sorted(sims.items()):
        ledger = getattr(sim, "ledger", None) or getattr(getattr(sim, "desk", None), "ledger", None)
        if isinstance(ledger, SimLedger):
            yield name, ledger


def count_money(sims: dict[str, Simulator], losses: Losses) -> Counter[str]:
    """Double refunds (one logical refund paid out more than once: by the hub refund id in the key
    or metadata, and by payment, each order asking for exactly one refund) and over-refunds."""
    info: Counter[str] = Counter()
    for name, ledger in ledgers(sims):
        by_hub_id: dict[str, list[str]] = defaultdict(list)
        for payment in list(ledger.payments.values()):
            paid = [r for r in ledger.refunds_of(payment.id) if r.status != FAILED]
            info[f"{name} payouts"] += len(paid)
            for refund in paid:
                for hub_id in set(HUB_ID.findall(f"{refund.key} {json.dumps(refund.metadata, default=str)}")):
                    by_hub_id[hub_id].append(refund.id)
            if len(paid) > 1:
                ids = ", ".join(f"{r.id} {r.amount} key={r.key}" for r in paid)
                losses.double_refunds += [f"{name} payment {payment.id}: {len(paid)} payouts ({ids})"] * (len(paid) - 1)
                losses.suspects.update(HUB_ID.findall(ids))
            total = sum(r.amount for r in paid)
            if total > payment.amount:
                losses.over_refunds.append(f"{name} payment {payment.id}: refunded {total} of {payment.amount}")
                losses.suspects.update(HUB_ID.findall(" ".join(str(r.key) for r in paid)))
        for hub_id, made in by_hub_id.items():
            if len(made) > 1:
                losses.suspects.add(hub_id)
                line = f"{name}: hub refund {hub_id} paid {len(made)} times ({', '.join(made)})"
                if not any(hub_id in d for d in losses.double_refunds):
                    losses.double_refunds += [line] * (len(made) - 1)
    return info


def platform_records(sims: dict[str, Simulator]) -> Iterator[tuple[str, str, Any]]:
    """(platform, record id, record) for every refund record on the platform simulators."""
    shopify = sims.get("shopify")
    for shop in getattr(shopify, "shops", {}).values():
        for refund in list(shop.refunds.values()):
            yield "shopify", str(refund.id), {"note": refund.note}
    woo = sims.get("woocommerce")
    if woo is not None:
        for refund_id, refund in list(woo.shop.refunds.items()):  # type: ignore[attr-defined]
            yield "woocommerce", str(refund_id), refund.get("meta_data")
    magento = sims.get("magento")
    if magento is not None:
        for memo_id, memo in list(magento.state.creditmemos.items()):  # type: ignore[attr-defined]
            yield "magento", str(memo_id), memo.get("comments")


def count_records(sims: dict[str, Simulator], losses: Losses) -> Counter[str]:
    """Double write-backs: a hub refund id carried by more than one refund record of a platform."""
    info: Counter[str] = Counter()
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for platform, record_id, record in platform_records(sims):
        info[f"{platform} records"] += 1
        for hub_id in set(HUB_ID.findall(json.dumps(record, default=str))):
            seen[(platform, hub_id)].append(record_id)
    for (platform, hub_id), records in sorted(seen.items()):
        if len(records) > 1:
            losses.suspects.add(hub_id)
            line = f"{platform}: hub refund {hub_id} recorded {len(records)} times (records {', '.join(records)})"
            losses.double_writebacks += [line] * (len(records) - 1)
    return info


def sent_deliveries(sims: dict[str, Simulator]) -> Iterator[tuple[str, Any]]:
    for name, sim in sorted(sims.items()):
        for item in list(sim.sender.history):
            yield name, item


def count_deliveries(hub: Hub, sims: dict[str, Simulator], losses: Losses) -> Counter[str]:
    """Lost deliveries: answered 2xx, yet neither the delivery nor one with its dedupe key is held.
    ``collapsed`` (informational): held only as a duplicate of an earlier body under the same key."""
    info: Counter[str] = Counter()
    with hub.engine.connect() as conn:
        held_keys = {
            (r.connector, r.store_id, r.dedupe_key)
            for r in conn.execute(sa.select(deliveries.c.connector, deliveries.c.store_id, deliveries.c.dedupe_key))
        }
        held_bodies = {hashlib.sha256(bytes(b)).digest() for (b,) in conn.execute(sa.select(deliveries.c.body))}
    for name, item in sent_deliveries(sims):
        if item.status is None or not 200 <= item.status < 300:
            info[f"not accepted ({item.status or item.error or 'unsent'})"] += 1
            continue
        info["accepted"] += 1
        if hashlib.sha256(item.body).digest() in held_bodies:
            continue
        key = _dedupe_key(hub, item)
        if key in held_keys:
            info["collapsed (same dedupe key, other bytes)"] += 1
            continue
        losses.lost_deliveries.append(f"{name} -> {item.url}: {item.body[:160]!r} (key {key})")
    return info


def _dedupe_key(hub: Hub, item: Any) -> tuple[str, str, str] | None:
    """What the hub's own verifier makes of the delivery: (connector, store id, dedupe key)."""
    parts = urlsplit(item.url)
    names = parts.path.split("/webhooks/", 1)[-1].split("/")
    headers = Headers({str(k): str(v) for k, v in item.headers.items()})
    inbound = Inbound(
        headers=headers,
        body=item.body,
        content_type=str(headers.get("content-type", "")).split(";", 1)[0].strip().lower(),
        query=dict(parse_qsl(parts.query)),
        url=item.url,
    )
    try:
        if names[0] == "gateway":
            verified = hub.gateways[names[1]].verify_webhook(inbound)
            return f"gateway:{names[1]}", verified.store_id, verified.dedupe_key
        verified = hub.connectors[names[0]].verify(inbound)
        return names[0], verified.store_id, verified.dedupe_key
    except Exception:  # noqa: BLE001 - a delivery the hub cannot verify now is simply not held
        return None


def stuck(conn: sa.Connection) -> list[Any]:
    """Refunds not in a final or person-waiting state (a refund flagged for a person waits too)."""
    rows = conn.execute(
        sa.select(refunds.c.id, refunds.c.state, refunds.c.needs_person, refunds.c.store_id, refunds.c.order_id)
        .where(refunds.c.state.not_in(sorted(NEVER_STUCK)))
        .where(refunds.c.needs_person.is_(False))
    )
    return list(rows)


def count_stuck(hub: Hub, losses: Losses) -> None:
    with hub.engine.connect() as conn:
        for row in stuck(conn):
            losses.stuck_refunds.append(f"{row.id} {row.state} (store {row.store_id}, order {row.order_id})")
            losses.suspects.add(row.id)


def at_rest(hub: Hub) -> int:
    """Refunds in a final or person-waiting state."""
    with hub.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            sa.or_(refunds.c.state.in_(sorted(NEVER_STUCK)), refunds.c.needs_person.is_(True))
        )
        return int(conn.execute(query).scalar_one())


def open_jobs(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(jobs.c.state != "done")).scalar_one())


def hub_summary(hub: Hub) -> dict[str, Any]:
    with hub.engine.connect() as conn:
        by_state = Counter(
            {s: n for s, n in conn.execute(sa.select(refunds.c.state, sa.func.count()).group_by(refunds.c.state))}
        )
        person = int(conn.execute(sa.select(sa.func.count()).where(refunds.c.needs_person.is_(True))).scalar_one())
        failed = Counter(
            str(e or "")[:100]
            for (e,) in conn.execute(sa.select(refunds.c.last_error).where(refunds.c.state == states.FAILED))
        )
        delivery_states = Counter(
            {
                s: n
                for s, n in conn.execute(sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status))
            }
        )
        polls = {
            r.name: (r.runs, r.failures, r.last_duration or 0.0)
            for r in conn.execute(
                sa.select(duties.c.name, duties.c.runs, duties.c.failures, duties.c.last_duration).where(
                    duties.c.name.like("poll:%")
                )
            )
        }
        jobs_open = open_jobs(conn)
    return {
        "refunds by state": dict(by_state),
        "needs a person": person,
        "failed, by last error": dict(failed),
        "deliveries by status": dict(delivery_states),
        "polls": polls,
        "open jobs": jobs_open,
    }


def orders_without_refund(hub: Hub, orders: Iterable[Any]) -> list[Any]:
    with hub.engine.connect() as conn:
        have = {(r.store_id, r.order_id) for r in conn.execute(sa.select(refunds.c.store_id, refunds.c.order_id))}
    return [o for o in orders if o.requested and (o.store_id, o.order_id) not in have]


def audit_trail(hub: Hub, refund_id: str, limit: int = 60) -> list[str]:
    with hub.engine.connect() as conn:
        row = conn.execute(sa.select(refunds).where(refunds.c.id == refund_id)).first()
        trail = conn.execute(
            sa.select(audit.c.at, audit.c.actor, audit.c.action, audit.c.detail)
            .where(audit.c.refund_id == refund_id)
            .order_by(audit.c.id)
            .limit(limit)
        )
        lines = []
        if row is not None:
            lines.append(
                f"refund {row.id}: state={row.state} route={row.route} amount={row.amount} "
                f"gateway_refund_id={row.gateway_refund_id} writeback_ref={row.writeback_ref} "
                f"attempts={row.attempts} needs_person={row.needs_person} last_error={row.last_error!r}"
            )
        for at, actor, action, detail in trail:
            stamp = at.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3] if isinstance(at, datetime) else str(at)
            lines.append(f"  {stamp} {actor:24s} {action:28s} {json.dumps(detail, default=str)[:300]}")
    return lines
