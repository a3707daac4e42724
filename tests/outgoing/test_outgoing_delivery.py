"""Deliveries from the durable outbox to a real receiver on 127.0.0.1, on a fake clock: signed,
in order, backed off while the receiver is down, every event once when it is back, the endpoint
disabled (with a notice) after its run of failures, replayable."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.tables import audit as audit_table
from hub.db.tables_outgoing import webhook_attempts, webhook_messages
from hub.ledger import audit, subscriptions, webhook_deliveries
from hub.ledger.unit import read, write
from hub.outgoing import endpoints
from hub.outgoing.deliver import deliver_due, deliver_endpoint
from hub.outgoing.sender import http_post
from hub.outgoing.signing import verify
from hub.runtime.bootstrap import Hub
from tests.outgoing.conftest import FakeClock, Receiver, make_hub, requested


def messages(hub: Hub) -> list[str]:
    with hub.engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(webhook_messages.c.id).order_by(webhook_messages.c.created_at))]


def attempts(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(webhook_attempts)).scalar_one())


def endpoint_now(hub: Hub, endpoint_id: str) -> subscriptions.Endpoint:
    found = endpoints.get(hub, endpoint_id)
    assert found is not None
    return found


def test_a_delivery_is_signed_per_standard_webhooks_over_the_exact_body(
    hub: Hub, receiver: Receiver, clock: FakeClock
) -> None:
    created = endpoints.create(hub, "s1", receiver.url, ["refund.requested"])
    refund_id = requested(hub, "rq-1")
    assert deliver_due(hub, clock) == Counter(sent=1)
    [got] = receiver.got
    assert got.headers["webhook-timestamp"] == str(int(clock.now.timestamp()))
    assert verify(created.secret, got.headers, got.body, now=int(clock.now.timestamp()))
    assert got.event["type"] == "refund.requested"
    assert got.event["data"]["refund"]["id"] == refund_id
    assert got.event["data"]["audit"]["action"] == "requested"
    assert got.id == messages(hub)[0]
    assert deliver_due(hub, clock) == Counter()  # nothing owed any more


def test_a_receiver_down_for_an_hour_gets_every_event_once_after_it_comes_back(
    tmp_path: Any, any_engine: sa.Engine, receiver: Receiver, clock: FakeClock
) -> None:
    hub = make_hub(tmp_path, any_engine)
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-0")
    receiver.down()  # nothing listens on the port: connection refused
    came_back = clock.now + timedelta(hours=1)
    for minute in range(60):  # an hour of events, the janitor's duty every minute
        if minute % 10 == 0:
            requested(hub, f"rq-{minute + 1}")
        deliver_due(hub, clock)
        clock.advance(minutes=1)
    assert receiver.got == []
    assert attempts(hub) <= 5
    receiver.up()  # the same port again
    assert clock.now == came_back
    for _ in range(6 * 60):
        deliver_due(hub, clock)
        if len(receiver.got) == len(messages(hub)):
            break
        clock.advance(minutes=1)
    ids = [g.id for g in receiver.got]
    assert ids == messages(hub)  # every event, once, in the order they happened
    assert len(ids) == 7
    assert all(verify(created.secret, g.headers, g.body, now=int(g.headers["webhook-timestamp"])) for g in receiver.got)
    after = endpoint_now(hub, created.endpoint.id)
    assert after.enabled
    assert after.failures == 0
    assert after.next_attempt_at is None


def test_a_store_endpoint_gets_its_store_and_the_events_it_subscribed_to(
    hub: Hub, receiver: Receiver, clock: FakeClock
) -> None:
    endpoints.create(hub, "s1", receiver.url, ["refund.succeeded"])
    everything = Receiver().up()
    try:
        endpoints.create(hub, "*", everything.url, ["*"])
        first = requested(hub, "rq-1", "s1")
        requested(hub, "rq-2", "s2")
        with hub.engine.begin() as conn:
            audit.write(conn, "worker", "executor_result", refund_id=first, outcome="succeeded", applied=True)
            audit.write(conn, "worker", "executor_result", refund_id=first, outcome="succeeded", applied=False)
            audit.write(conn, "worker", "executing", refund_id=first)
        deliver_due(hub, clock)
        assert [(g.event["type"], g.event["data"]["store_id"]) for g in receiver.got] == [("refund.succeeded", "s1")]
        assert [g.event["type"] for g in everything.got] == ["refund.requested", "refund.requested", "refund.succeeded"]
    finally:
        everything.down()


def test_nothing_is_sent_for_a_change_that_was_rolled_back(hub: Hub, receiver: Receiver, clock: FakeClock) -> None:
    endpoints.create(hub, "s1", receiver.url, ["*"])
    refund_id = requested(hub, "rq-1")
    conn = hub.engine.connect()
    transaction = conn.begin()
    audit.write(conn, "worker", "written_back", refund_id=refund_id)
    transaction.rollback()  # the step failed after its audit write
    conn.close()
    deliver_due(hub, clock)
    assert [g.event["type"] for g in receiver.got] == ["refund.requested"]


def test_after_its_run_of_failures_an_endpoint_is_disabled_and_the_merchant_told(
    hub: Hub, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.status = 500
    failing = endpoints.create(hub, "s1", receiver.url, ["*"], failure_limit=3)
    watcher = Receiver().up()
    try:
        endpoints.create(hub, "s1", watcher.url, ["webhook.endpoint_disabled"])
        requested(hub, "rq-1")
        for _ in range(3):
            deliver_due(hub, clock)
            clock.advance(hours=1)
        assert len(receiver.got) == 3
        after = endpoint_now(hub, failing.endpoint.id)
        assert not after.enabled
        assert after.disabled_reason == "3 failed attempts in a row (last: HTTP 500)"
        clock.advance(days=1)
        deliver_due(hub, clock)
        assert len(receiver.got) == 3  # disabled: no more attempts
        [notice] = watcher.got
        assert notice.event["type"] == "webhook.endpoint_disabled"
        assert notice.event["data"]["audit"]["detail"]["endpoint_id"] == failing.endpoint.id
        with hub.engine.connect() as conn:
            entry = conn.execute(
                sa.select(audit_table).where(audit_table.c.action == "webhook_endpoint_disabled")
            ).one()
        assert entry.chain == "s1"
        assert entry.detail["owed"] == 1
        receiver.status = 200
        with write(hub.engine) as conn:
            subscriptions.enable(conn, failing.endpoint.id)
        deliver_due(hub, clock)
        assert [g.id for g in receiver.got[3:]] == [receiver.got[0].id]  # what it was owed, the same webhook-id
    finally:
        watcher.down()


def test_410_gone_disables_at_once(hub: Hub, receiver: Receiver, clock: FakeClock) -> None:
    receiver.status = 410
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    deliver_due(hub, clock)
    assert endpoint_now(hub, created.endpoint.id).disabled_reason == "the receiver answered 410 Gone"


def test_a_failed_endpoint_waits_its_backoff_and_keeps_order(hub: Hub, receiver: Receiver, clock: FakeClock) -> None:
    receiver.status = 503
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    requested(hub, "rq-2")
    assert deliver_due(hub, clock) == Counter(failed=1)  # the second waits behind the first
    waiting = endpoint_now(hub, created.endpoint.id)
    assert waiting.failures == 1
    assert waiting.next_attempt_at is not None
    assert timedelta(seconds=5) <= waiting.next_attempt_at - clock.now <= timedelta(seconds=5.5)
    clock.advance(seconds=4)
    assert deliver_due(hub, clock) == Counter()
    receiver.status = 200
    clock.advance(seconds=2)
    assert deliver_due(hub, clock) == Counter(sent=2)
    assert [g.id for g in receiver.got] == [receiver.got[0].id, receiver.got[0].id, messages(hub)[1]]


def test_a_delivery_is_replayed_with_the_same_webhook_id(hub: Hub, receiver: Receiver, clock: FakeClock) -> None:
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    deliver_due(hub, clock)
    with read(hub.engine) as conn:
        [delivery] = webhook_deliveries.deliveries(conn, created.endpoint.id)
    assert delivery["state"] == "succeeded"
    assert [a["status"] for a in delivery["attempt_log"]] == [200]
    with write(hub.engine) as conn:
        assert webhook_deliveries.replay(conn, created.endpoint.id, delivery_id=delivery["id"]) == 1
    deliver_due(hub, clock)
    assert [g.id for g in receiver.got] == [delivery["message_id"]] * 2


def test_during_a_rotation_both_secrets_sign_until_the_overlap_ends(
    hub: Hub, receiver: Receiver, clock: FakeClock
) -> None:
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    new = endpoints.rotate(hub, created.endpoint.id, overlap=timedelta(hours=24), now=clock.now)
    assert new is not None
    requested(hub, "rq-1")
    deliver_due(hub, clock)
    clock.advance(hours=25)
    requested(hub, "rq-2")
    deliver_due(hub, clock)
    during, after = receiver.got
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(created.secret, during.headers, during.body, now=int(during.headers["webhook-timestamp"]))
    assert verify(new, during.headers, during.body, now=int(during.headers["webhook-timestamp"]))
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert not verify(created.secret, after.headers, after.body, now=int(after.headers["webhook-timestamp"]))
    assert verify(new, after.headers, after.body, now=int(after.headers["webhook-timestamp"]))


def test_one_sender_at_a_time_per_endpoint(hub: Hub, receiver: Receiver, clock: FakeClock) -> None:
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    with write(hub.engine) as conn:
        assert webhook_deliveries.claim(conn, created.endpoint.id, clock.now, timedelta(minutes=1)) is not None
    assert deliver_endpoint(hub, created.endpoint.id, clock) == Counter()  # held by another sender
    clock.advance(minutes=2)  # that sender died: its lease ran out
    assert deliver_endpoint(hub, created.endpoint.id, clock) == Counter(sent=1)


@pytest.mark.postgres
def test_postgres_outbox_delivers_too(
    tmp_path: Any, pg_engine: sa.Engine, receiver: Receiver, clock: FakeClock
) -> None:
    hub = make_hub(tmp_path, pg_engine)
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    assert deliver_due(hub, clock) == Counter(sent=1)
    assert verify(created.secret, receiver.got[0].headers, receiver.got[0].body, now=int(clock.now.timestamp()))


def test_pruning_keeps_what_an_endpoint_is_still_owed(
    tmp_path: Any, any_engine: sa.Engine, receiver: Receiver, clock: FakeClock
) -> None:
    hub = make_hub(tmp_path, any_engine)
    endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    deliver_due(hub, clock)
    receiver.down()
    requested(hub, "rq-2")
    deliver_due(hub, clock)  # fails: still owed
    later = clock.now + timedelta(days=60)
    with write(hub.engine) as conn:
        assert webhook_deliveries.prune(conn, later) == 2  # the delivered delivery and its message
    with hub.engine.connect() as conn:
        left = conn.execute(sa.select(webhook_messages.c.id)).scalars().all()
        tries = conn.execute(sa.select(sa.func.count()).select_from(webhook_attempts)).scalar_one()
    assert len(left) == 1
    assert tries == 1  # the failed attempt of the delivery still owed


def test_a_sender_stops_when_a_person_disables_the_endpoint_meanwhile(
    hub: Hub, receiver: Receiver, clock: FakeClock
) -> None:
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    requested(hub, "rq-2")

    def post_then_disable(url: str, headers: Any, body: bytes, timeout: float) -> Any:
        answer = http_post(url, headers, body, timeout)
        with write(hub.engine) as conn:
            subscriptions.disable(conn, created.endpoint.id, "paused by a person")
        return answer

    assert deliver_endpoint(hub, created.endpoint.id, clock, post_then_disable) == Counter(sent=1)
    assert len(receiver.got) == 1
