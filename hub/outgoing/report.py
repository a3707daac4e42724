"""The janitor's ``audit_report`` duty: once per ``[audit] report_every_days`` (weekly by default)
the report of the period just ended is stored per store (``hub.ledger.audit_report``), for the
merchant to read in the stored exports and for the auditor beside the signed audit export."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hub.ledger import audit_report
from hub.ledger.unit import read, write
from hub.runtime.bootstrap import Hub


def report(hub: Hub, since: datetime, until: datetime, store_id: str | None = None) -> dict[str, dict[str, Any]]:
    settings = hub.config.audit
    with read(hub.engine) as conn:
        return audit_report.build(
            conn,
            since,
            until,
            sla=timedelta(hours=settings.review_sla_hours),
            threshold=settings.approval_threshold,
            store_id=store_id,
        )


def audit_report_duty(hub: Hub, now: datetime) -> Counter[str]:
    since = now - timedelta(days=hub.config.audit.report_every_days)
    reports = report(hub, since, now)
    with write(hub.engine) as conn:
        for store_id, content in reports.items():
            audit_report.save(conn, store_id, content, since, now)
    return Counter(audit_reports=len(reports))
