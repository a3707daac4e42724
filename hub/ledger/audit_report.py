"""The regular audit report (weekly by default), built from the audit trail and the refunds:

- ``outside_policy``: money returned that the rules alone would not have returned — a person's
  approval where the policy's verdict was not an approval (review, deny, an alternative), and
  refunds made outside the hub (recorded from a platform or a gateway dashboard) with money moved;
- ``overrides``: per person, reviews whose outcome differs from the policy's verdict (an approval
  the policy did not give, a denial of one it gave, an approval for another amount);
- ``approvals_above_threshold``: approvals (by the policy or a person) above the threshold
  (``[audit] approval_threshold``, else the store's ``two_approvers_above``);
- ``reviews_over_sla``: refunds still waiting for a person longer than ``[audit] review_sla_hours``.

The janitor's ``audit_report`` duty stores one report per store (``audit_reports``);
``refund-hub audit report`` prints one for any period.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from hub.db.tables import audit, refunds, stores
from hub.db.tables_outgoing import audit_reports
from hub.ledger.records import as_utc

APPROVING = ("approve", "approve_partial")


def build(
    conn: Connection,
    since: datetime,
    until: datetime,
    *,
    sla: timedelta,
    threshold: int | None = None,
    store_id: str | None = None,
) -> dict[str, dict[str, Any]]:
    """One report per store that had anything in [since, until) (or only ``store_id``)."""
    verdicts = _policy_verdicts(conn, since, until, store_id)
    reports: dict[str, dict[str, Any]] = defaultdict(lambda: _empty(since, until))
    limits = _thresholds(conn)
    for entry in _entries(conn, since, until, store_id, ("reviewed", "decided")):
        report = reports[entry["store_id"]]
        policy = verdicts.get(entry["refund_id"], {})
        if entry["action"] == "reviewed" and not entry["actor"].startswith("policy"):
            _person_review(report, entry, policy)
        if entry["detail"].get("state") == "approved":
            limit = threshold if threshold is not None else limits.get(entry["store_id"])
            amount = entry["detail"].get("amount") or entry["refund_amount"]
            if limit is not None and amount is not None and int(amount) > int(limit):
                report["approvals_above_threshold"].append(_line(entry, amount=amount, threshold=int(limit)))
    for row in _outside(conn, since, until, store_id):
        reports[row["store_id"]]["outside_policy"].append({**row, "why": "made outside the hub"})
    for row in _waiting(conn, until - sla, store_id):
        reports[row["store_id"]]["reviews_over_sla"].append(row)
    return {store: _finish(report) for store, report in sorted(reports.items())}


def _empty(since: datetime, until: datetime) -> dict[str, Any]:
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "outside_policy": [],
        "overrides": defaultdict(lambda: {"overrides": 0, "approved": 0, "denied": 0, "refunds": []}),
        "approvals_above_threshold": [],
        "reviews_over_sla": [],
    }


def _finish(report: dict[str, Any]) -> dict[str, Any]:
    report["overrides"] = dict(sorted(report["overrides"].items()))
    report["counts"] = {k: len(report[k]) for k in ("outside_policy", "approvals_above_threshold", "reviews_over_sla")}
    report["counts"]["overrides"] = sum(o["overrides"] for o in report["overrides"].values())
    return report


def _person_review(report: dict[str, Any], entry: dict[str, Any], policy: dict[str, Any]) -> None:
    approved = entry["detail"].get("state") == "approved"
    verdict = policy.get("verdict")
    amount = entry["detail"].get("amount")
    if approved and verdict not in APPROVING:
        report["outside_policy"].append(_line(entry, why=f"approved by {entry['actor']}; the policy said {verdict}"))
    override = (
        (approved and verdict not in APPROVING and verdict != "review")
        or (not approved and verdict in APPROVING)
        or (approved and verdict in APPROVING and policy.get("amount") not in (None, amount))
    )
    if override:
        person = report["overrides"][entry["actor"]]
        person["overrides"] += 1
        person["approved" if approved else "denied"] += 1
        person["refunds"].append(entry["refund_id"])


def _line(entry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "refund_id": entry["refund_id"],
        "at": entry["at"].isoformat(),
        "actor": entry["actor"],
        "currency": entry["currency"],
        **extra,
    }


def _entries(
    conn: Connection, since: datetime, until: datetime, store_id: str | None, actions: tuple[str, ...]
) -> list[dict[str, Any]]:
    query = (
        select(audit, refunds.c.store_id, refunds.c.currency, refunds.c.amount.label("refund_amount"))
        .join(refunds, refunds.c.id == audit.c.refund_id)
        .where(audit.c.action.in_(actions), audit.c.at >= since, audit.c.at < until)
        .order_by(audit.c.id)
    )
    if store_id is not None:
        query = query.where(refunds.c.store_id == store_id)
    found = []
    for row in conn.execute(query):
        entry = dict(row._mapping)
        entry["at"] = as_utc(entry["at"])
        found.append(entry)
    return found


def _policy_verdicts(
    conn: Connection, since: datetime, until: datetime, store_id: str | None
) -> dict[str, dict[str, Any]]:
    """The policy's last verdict on each refund a person reviewed in the period."""
    reviewed = {e["refund_id"] for e in _entries(conn, since, until, store_id, ("reviewed",))}
    verdicts: dict[str, dict[str, Any]] = {}
    ids = sorted(reviewed)
    for start in range(0, len(ids), 500):
        query = (
            select(audit.c.refund_id, audit.c.detail)
            .where(audit.c.action == "decided", audit.c.refund_id.in_(ids[start : start + 500]))
            .order_by(audit.c.id)
        )
        for row in conn.execute(query):
            verdicts[row.refund_id] = dict(row.detail)
    return verdicts


def _outside(conn: Connection, since: datetime, until: datetime, store_id: str | None) -> list[dict[str, Any]]:
    query = select(
        refunds.c.id,
        refunds.c.store_id,
        refunds.c.connector,
        refunds.c.amount,
        refunds.c.currency,
        refunds.c.created_at,
    ).where(
        refunds.c.kind == "recorded", refunds.c.money_moved, refunds.c.created_at >= since, refunds.c.created_at < until
    )
    if store_id is not None:
        query = query.where(refunds.c.store_id == store_id)
    return [
        {
            "refund_id": r.id,
            "store_id": r.store_id,
            "at": as_utc(r.created_at).isoformat(),  # type: ignore[union-attr]
            "actor": r.connector,
            "currency": r.currency,
            "amount": r.amount,
        }
        for r in conn.execute(query.order_by(refunds.c.created_at))
    ]


def _waiting(conn: Connection, before: datetime, store_id: str | None) -> list[dict[str, Any]]:
    query = select(refunds.c.id, refunds.c.store_id, refunds.c.amount, refunds.c.currency, refunds.c.created_at).where(
        refunds.c.state == "review", refunds.c.created_at < before
    )
    if store_id is not None:
        query = query.where(refunds.c.store_id == store_id)
    return [
        {
            "refund_id": r.id,
            "store_id": r.store_id,
            "waiting_since": as_utc(r.created_at).isoformat(),  # type: ignore[union-attr]
            "amount": r.amount,
            "currency": r.currency,
        }
        for r in conn.execute(query.order_by(refunds.c.created_at))
    ]


def _thresholds(conn: Connection) -> dict[str, int]:
    """Each store's ``two_approvers_above`` (stores without one have no threshold)."""
    found = {}
    for row in conn.execute(select(stores.c.store_id, stores.c.settings)):
        value = (row.settings or {}).get("two_approvers_above")
        if value is not None:
            found[row.store_id] = int(value)
    return found


def save(conn: Connection, store_id: str, report: dict[str, Any], since: datetime, until: datetime) -> str:
    """Keep a report for the merchant and the auditor (``saved`` lists them)."""
    report_id = f"ar_{uuid.uuid4().hex[:24]}"
    values = {"id": report_id, "store_id": store_id, "since": since, "until": until, "created_at": until}
    conn.execute(insert(audit_reports).values(**values, content=json.loads(json.dumps(report))))
    return report_id


def saved(conn: Connection, store_id: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    query = select(audit_reports).order_by(audit_reports.c.created_at.desc()).limit(limit)
    if store_id is not None:
        query = query.where(audit_reports.c.store_id == store_id)
    return [dict(r._mapping) for r in conn.execute(query)]
