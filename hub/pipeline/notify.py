"""Tell the customer about a denial (the policy's, or a reviewer's) or an offered alternative,
through the platform.

Runs as its own ``notify`` job after the decision's commit; a failure raises so the job retries
with backoff, and the audit records what the platform took — ``customer_not_notified`` when the
connector has no channel for it, never "told" when nothing went out.
"""

from __future__ import annotations

from hub.contracts import DecisionNotice
from hub.ledger import audit
from hub.ledger import refunds as ledger
from hub.ledger.unit import read, write
from hub.runtime.bootstrap import Hub


def tell_customer(hub: Hub, refund_id: str) -> None:
    with read(hub.engine) as conn:
        row = ledger.get(conn, refund_id)
    if row is None or not row.decision or "decision" not in row.decision:
        return
    store = hub.stores[row.connector].get(row.store_id)
    if store is None:
        return
    decided = row.decision["decision"]
    reviewed = row.decision.get("reviewed")
    if reviewed and reviewed.get("verdict") == "deny":  # a person denied it after review
        action = "deny"
        explanation = reviewed.get("reason") or "After review, we could not approve this refund."
    else:
        action, explanation = decided["action"], decided["explanation"]
    notice = DecisionNotice(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        decision=action,
        explanation=explanation,
    )
    result = hub.connectors[row.connector].notify_decision(store, notice)
    with write(hub.engine) as conn:
        audit.write(
            conn,
            "worker",
            "customer_notified" if result is not None else "customer_not_notified",
            refund_id=row.id,
            channel="platform",
            decision=action,
            reference=result.reference if result else None,
        )
