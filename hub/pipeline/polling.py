"""Catch up with stores that cannot push (or whose pushes may be lost): check their webhook
subscriptions and take what ``poll`` finds into the ledger like any delivered notice.

A connector's ``poll`` may return one ``PollResult`` or an iterable of them, page by page: the
cursor is saved after each page, so a poll that fails half way resumes from its last saved
point instead of re-reading the whole window."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from hub.contracts import PollResult, StoreContext
from hub.ledger import audit
from hub.ledger.unit import write
from hub.pipeline.deliveries import take_notice
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
CURSOR_KEY = "poll_cursor"
ACTOR = "janitor"


def poll_store(hub: Hub, name: str, store: StoreContext) -> Counter[str]:
    """One store's webhook health check and poll; a failure is audited, never raised."""
    counts: Counter[str] = Counter()
    connector, directory = hub.connectors[name], hub.stores[name]
    try:
        for problem in connector.check_webhooks(store):
            with write(hub.engine) as conn:
                audit.write(conn, ACTOR, "webhook_health", store_id=store.id, connector=name, problem=problem)
        cursor = directory.get_state(store.id, CURSOR_KEY)
        for page in pages(connector.poll(store, cursor)):
            for notice in page.notices:
                take_notice(hub, name, notice, None)
                counts["polled"] += 1
            if page.cursor != cursor:
                directory.set_state(store.id, CURSOR_KEY, page.cursor)
                cursor = page.cursor
    except Exception as exc:  # noqa: BLE001 - one store's failure must not stop the others' polls
        log.exception("polling %s store %s failed", name, store.id, extra={"connector": name, "store_id": store.id})
        with write(hub.engine) as conn:
            audit.write(conn, ACTOR, "poll_failed", store_id=store.id, connector=name, error=str(exc)[:500])
    return counts


def pages(result: PollResult | Iterable[PollResult] | None) -> Iterable[PollResult]:
    if result is None:
        return ()
    if isinstance(result, PollResult):
        return (result,)
    return result


def poll_stores(hub: Hub) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name in hub.connectors:
        for store in hub.stores[name].all():
            counts.update(poll_store(hub, name, store))
    return counts
