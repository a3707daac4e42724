"""The janitor's slow duties of this package: ``reconcile`` (every ``[reconcile] every_hours``,
each store over its last ``window_days``) and ``monthly_export`` (daily: last month's CSV per store,
written once under ``<instance>/exports`` and listed in ``export_files``)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from hub.errors import HubError
from hub.ledger import exports
from hub.ledger.exports import ExportFile
from hub.reconcile.run import reconcile
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)


def every_store(hub: Hub) -> list[tuple[str, str]]:
    return [(name, store.id) for name in sorted(hub.connectors) for store in hub.stores[name].all()]


def reconcile_duty(hub: Hub, now: datetime) -> Counter[str]:
    since = now - timedelta(days=hub.config.reconcile.window_days)
    counts: Counter[str] = Counter()
    for connector, store_id in every_store(hub):
        try:
            report = reconcile(hub, store_id, since, connector=connector, now=now)
        except HubError as exc:  # one store that cannot be compared does not stop the others
            log.warning("reconcile %s/%s: %s", connector, store_id, exc)
            counts["reconcile_failed"] += 1
            continue
        counts["reconciled"] += 1
        counts["drift"] += len(report.drifts)
    return counts


def export_month(hub: Hub, period: str) -> list[ExportFile]:
    folder = hub.config.hub.instance_path.resolve() / "exports"
    return [exports.write_month(hub.engine, folder, c, s, period) for c, s in every_store(hub)]


def monthly_export_duty(hub: Hub, now: datetime) -> Counter[str]:
    if not hub.config.reconcile.monthly_exports:
        return Counter()
    return Counter(monthly_exports=len(export_month(hub, exports.previous_month(now))))
