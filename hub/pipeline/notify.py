"""Tell the customer about a denial or an offered alternative, through the platform.

Runs as its own ``notify`` job after the decision's commit; a failure raises so the job retries
with backoff, and the audit records what the platform took.
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
    notice = DecisionNotice(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        decision=decided["action"],
        explanation=decided["explanation"],
    )
    result = hub.connectors[row.connector].notify_decision(store, notice)
    with write(hub.engine) as conn:
        audit.write(
            conn, "worker", "customer_notified", refund_id=row.id, reference=result.reference if result else None
        )
