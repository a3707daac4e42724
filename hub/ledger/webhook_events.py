"""Refund events out of the audit trail: which audit entries stand for which events, and the
fan-out ``hub.ledger.audit.write`` calls inside the ledger transaction — a message per event and a
delivery per subscribed endpoint, committed exactly when the change is (a durable outbox)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from hub.db.tables import refunds
from hub.db.tables_outgoing import webhook_deliveries, webhook_endpoints, webhook_messages
from hub.ledger import outbox
from hub.ledger.records import from_row
from hub.ledger.subscriptions import ALL, Endpoint
from hub.ledger.webhook_deliveries import PENDING

EVENT_TYPES = (
    "refund.requested",
    "refund.decided",
    "refund.succeeded",
    "refund.failed",
    "refund.written_back",
    "refund.alternative_issued",
    "refund.dispute_opened",
    "webhook.endpoint_disabled",
)
DISPUTED = ("held_for_dispute", "dispute_while_executing")  # a dispute event reached a refund (hub.pipeline.disputes)


def event_types(action: str, detail: Mapping[str, Any]) -> tuple[str, ...]:
    """The events an audit entry stands for (most stand for none)."""
    if action == "requested":
        return ("refund.requested",)
    if action in ("decided", "reviewed"):
        found = ["refund.decided"]
        if detail.get("state") == "offered":
            found.append("refund.alternative_issued")
        if "hard.dispute" in (detail.get("rules") or ()) or "dispute" in detail:
            found.append("refund.dispute_opened")  # the policy's dispute rule, or a disputed tender held it
        return tuple(found)
    if action == "executor_result" and detail.get("applied"):
        outcome = detail.get("outcome")
        return (f"refund.{outcome}",) if outcome in ("succeeded", "failed") else ()
    if action == "written_back":
        return ("refund.written_back",)
    if action in DISPUTED:
        return ("refund.dispute_opened",)
    if action == "webhook_endpoint_disabled":
        return ("webhook.endpoint_disabled",)
    return ()


def _now() -> datetime:
    return datetime.now(UTC)


_SUBSCRIBED = select(webhook_endpoints).where(
    webhook_endpoints.c.enabled, webhook_endpoints.c.store_id.in_([bindparam("store_id"), ALL])
)
_SNAPSHOT = select(
    refunds.c.id,
    refunds.c.connector,
    refunds.c.store_id,
    refunds.c.order_id,
    refunds.c.source_ref,
    refunds.c.kind,
    refunds.c.state,
    refunds.c.money_moved,
    refunds.c.amount,
    refunds.c.approved_amount,
    refunds.c.currency,
    refunds.c.route,
    refunds.c.gateway_refund_id,
).where(refunds.c.id == bindparam("id"))


def fan_out(conn: Connection, entry: Mapping[str, Any]) -> int:
    """Messages and deliveries for the events ``entry`` stands for, to every endpoint of its
    store that subscribes to them; a job per endpoint wakes a sender. Returns deliveries added."""
    types = event_types(entry["action"], entry["detail"])
    if not types:
        return 0
    subscribed = [from_row(Endpoint, r) for r in conn.execute(_SUBSCRIBED, {"store_id": entry["chain"]})]
    if not subscribed:
        return 0
    refund = _snapshot(conn, entry.get("refund_id"))
    added = 0
    for event_type in types:
        targets = [e for e in subscribed if e.wants(event_type)]
        if targets:
            message_id = _message(conn, event_type, entry, refund)
            for target in targets:
                conn.execute(_DELIVERY, {"message_id": message_id, "endpoint_id": target.id, "at": _now()})
                outbox.ensure(conn, outbox.JobKind.WEBHOOK, target.id)
                added += 1
    return added


_DELIVERY = insert(webhook_deliveries).values(
    message_id=bindparam("message_id"),
    endpoint_id=bindparam("endpoint_id"),
    state=PENDING,
    attempts=0,
    created_at=bindparam("at"),
)


def _snapshot(conn: Connection, refund_id: str | None) -> dict[str, Any] | None:
    if not refund_id:
        return None
    row = conn.execute(_SNAPSHOT, {"id": refund_id}).first()
    return dict(row._mapping) if row is not None else None


def _message(conn: Connection, event_type: str, entry: Mapping[str, Any], refund: dict[str, Any] | None) -> str:
    """The message's exact body (what is signed and sent, the same on every attempt)."""
    message_id = f"msg_{uuid.uuid4().hex}"
    data: dict[str, Any] = {
        "store_id": entry["chain"],
        "refund": refund,
        "audit": {
            "id": entry["id"],
            "seq": entry["seq"],
            "hash": entry["hash"],
            "actor": entry["actor"],
            "action": entry["action"],
            "detail": entry["detail"],
        },
    }
    body = json.dumps({"type": event_type, "timestamp": entry["at"], "data": data}, separators=(",", ":"))
    conn.execute(
        insert(webhook_messages).values(
            id=message_id,
            event_type=event_type,
            store_id=entry["chain"],
            refund_id=entry.get("refund_id"),
            audit_id=entry["id"],
            body=body,
            created_at=_now(),
        )
    )
    return message_id
