"""Draining the outbox: each endpoint gets what it is owed, oldest first, one sender at a time.

An endpoint is claimed under a lease (``webhook_deliveries.claim``), so a worker's job and the
janitor's duty never send to it at once. A failure backs the whole endpoint off (the schedule
in ``hub.outgoing.schedule``): its later deliveries wait behind the first, so a receiver that was
down gets everything, in order, once it answers again. After ``failure_limit`` failures in a row
(or a ``410 Gone``) the endpoint is disabled and the merchant told: an audit entry in the store's
chain, which is also a ``webhook.endpoint_disabled`` event to the store's other endpoints.

The HTTP call happens outside any transaction; a crash between the call and its record sends the
delivery again, with the same ``webhook-id`` (receivers deduplicate on it).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hub.ledger import audit, subscriptions
from hub.ledger import webhook_deliveries as owed_to
from hub.ledger.audit_chain import HUB_CHAIN
from hub.ledger.subscriptions import ALL, Endpoint
from hub.ledger.unit import Unit, read, write
from hub.ledger.webhook_deliveries import Attempt, Pending
from hub.outgoing import endpoints, sender, signing
from hub.outgoing.destinations import Refused, check_resolved
from hub.outgoing.schedule import backoff, retry_after
from hub.outgoing.sender import Post
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_PER_RUN = 1000  # deliveries one claim sends before it lets go (the next run goes on)


def _real_clock() -> datetime:
    return datetime.now(UTC)


def deliver_due(hub: Hub, clock: Clock = _real_clock, post: Post = sender.http_post) -> Counter[str]:
    """Every endpoint that owes deliveries and may be tried now (the janitor's ``webhooks`` duty)."""
    with read(hub.engine) as conn:
        ready = owed_to.due(conn, clock())
    counts: Counter[str] = Counter()
    for endpoint_id in ready:
        counts.update(deliver_endpoint(hub, endpoint_id, clock, post))
    return counts


def deliver_endpoint(
    hub: Hub, endpoint_id: str, clock: Clock = _real_clock, post: Post = sender.http_post
) -> Counter[str]:
    """Send what ``endpoint_id`` is owed until it is all sent or the endpoint fails once."""
    counts: Counter[str] = Counter()
    lease = _lease(hub)
    with write(hub.engine) as conn:
        endpoint = owed_to.claim(conn, endpoint_id, clock(), lease)
    if endpoint is None:
        return counts
    holding = True
    try:
        for _ in range(MAX_PER_RUN):
            with read(hub.engine) as conn:
                pending = owed_to.next_pending(conn, endpoint_id)
            if pending is None:
                break
            done, holding = _send(hub, endpoint, pending, clock(), post)
            counts["sent" if done else "failed"] += 1
            if not done:
                break
    finally:
        if holding:
            with write(hub.engine) as conn:
                owed_to.release(conn, endpoint_id)
    return counts


def _lease(hub: Hub) -> timedelta:
    return timedelta(seconds=2 * hub.config.webhooks.timeout_seconds + 30)


def _send(hub: Hub, endpoint: Endpoint, pending: Pending, at: datetime, post: Post) -> tuple[bool, bool]:
    """One attempt, recorded; (delivered, still holding the endpoint)."""
    body = pending.body.encode()
    secrets = endpoints.signing_secrets(hub, endpoint, at)
    headers = signing.headers(secrets, pending.message_id, int(at.timestamp()), body)
    try:
        check_resolved(endpoint.url, hub.config.webhooks.allow_private_networks)
        result, wait = sender.attempt(post, endpoint.url, headers, body, hub.config.webhooks.timeout_seconds, at)
    except Refused as exc:  # not sent at all: a failure like any other, named
        result, wait = Attempt(at, None, f"refused: {exc}"[:500], None, 0), None
    with write(hub.engine) as conn:
        owed_to.record_attempt(conn, pending, endpoint.id, result)
        if result.ok:
            owed_to.succeeded(conn, endpoint.id, at, _lease(hub))
            return True, True
        _failed(hub, conn, endpoint, result, wait)
    return False, False


def _failed(hub: Hub, conn: Unit, endpoint: Endpoint, result: Attempt, wait: str | None) -> None:
    """Back the endpoint off; disable it after its run of failures (410: at once)."""
    limit = endpoint.failure_limit or hub.config.webhooks.failure_limit
    run = owed_to.failed(conn, endpoint.id)
    owed_to.wait_until(conn, endpoint.id, result.at + backoff(run, retry_after(wait)))
    if result.status == 410:
        _disable(conn, endpoint, run, "the receiver answered 410 Gone")
    elif run >= limit:
        _disable(conn, endpoint, run, f"{run} failed attempts in a row (last: {result.error})")


def _disable(conn: Unit, endpoint: Endpoint, run: int, reason: str) -> None:
    if not subscriptions.disable(conn, endpoint.id, reason):
        return
    log.warning("outgoing webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)
    audit.write(
        conn,
        "webhooks",
        "webhook_endpoint_disabled",
        store_id=endpoint.store_id if endpoint.store_id != ALL else HUB_CHAIN,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        failures=run,
        reason=reason,
        owed=owed_to.owed(conn, endpoint.id),
    )
