"""A signed delivery through the whole hub: verify, store, parse, fetch, decide, execute, write back."""

from __future__ import annotations

from hub.ledger import states
from tests.hub.conftest import World


def test_delivery_sent_twice_moves_money_once(any_world: World) -> None:
    w = any_world
    w.order("1001", 5000)
    raw, headers = w.platform.request_refund("1001", 2500, request_id="rq-1", send=False)
    first, second = w.post(raw, headers), w.post(raw, headers)
    assert first.status_code == 200
    assert first.json["result"] == "accepted"
    assert second.status_code == 200
    assert second.json["result"] == "duplicate"
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert refund.approved_amount == 2500
    [gateway_refund] = w.gateway_refunds()
    assert (gateway_refund.amount, gateway_refund.key) == (2500, refund.idempotency_key)
    [record] = w.platform.refunds["1001"]
    assert record["api_refund"] is False
    assert record["hub_refund_id"] == refund.id
    assert w.platform.money_moves == []
    actions = [a.action for a in w.hub.audit(refund.id) if not a.action.startswith("customer_")]  # notices aside
    assert actions[:3] == ["requested", "decided", "executing"]
    assert "echo_matched" in actions  # the platform's refund.created came back and was recognised


def test_the_same_request_in_two_deliveries_is_one_refund(world: World) -> None:
    world.order("1002", 3000)
    for event in ("e-1", "e-2"):
        raw, headers = world.platform.request_refund("1002", 1000, request_id="rq-same", event_id=event, send=False)
        assert world.post(raw, headers).json["result"] == "accepted"
    world.hub.settle(senders=[world.platform.sender])
    assert len(world.hub.refunds()) == 1
    assert len(world.gateway_refunds()) == 1


def test_platform_route_lets_the_platform_move_the_money(world: World) -> None:
    world.platform.add_order("1003", 4000, label="platform")
    world.platform.request_refund("1003", 4000, request_id="rq-p")
    world.hub.settle(senders=[world.platform.sender])
    [refund] = world.hub.refunds()
    assert refund.route == "platform"
    assert refund.state == states.WRITTEN_BACK
    [moved] = world.platform.money_moves
    assert moved["hub_refund_id"] == refund.id
    assert moved["amount"] == 4000
    assert world.gateway_refunds() == []


def test_pending_refund_settles_through_the_gateway_webhook(world: World) -> None:
    world.gateway.ledger.settle_after = 0.2
    world.order("1004", 1500)
    world.platform.request_refund("1004", 1500, request_id="rq-w")
    world.hub.settle(
        senders=[world.platform.sender, world.gateway.sender],
        until=lambda: world.hub.refunds() and world.hub.refunds()[0].state == states.WRITTEN_BACK,
    )
    [refund] = world.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert len(world.gateway_refunds()) == 1


def test_dashboard_refund_is_recorded_not_executed(world: World) -> None:
    payment = world.order("1005", 9000)
    world.platform.request_refund("1005", 1000, request_id="rq-d")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    world.gateway.ledger.add_dashboard_refund(payment, 2000)
    world.hub.settle(senders=[world.gateway.sender])
    states_by_kind = sorted((r.kind, r.state, r.amount) for r in world.hub.refunds())
    assert states_by_kind == [("recorded", states.RECORDED, 2000), ("requested", states.WRITTEN_BACK, 1000)]
    assert len(world.gateway_refunds()) == 2


def test_shadow_policy_decides_beside_the_live_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.hub.conftest import make_world

    for w in make_world(tmp_path):
        w.hub.hub.config.hub.shadow_policy = "default"
        w.order("1006", 800)
        w.platform.request_refund("1006", 800, request_id="rq-shadow")
        w.hub.settle(senders=[w.platform.sender])
        [refund] = w.hub.refunds()
        shadow = [a for a in w.hub.audit(refund.id) if a.action == "shadow_decision"]
        assert len(shadow) == 1
        assert shadow[0].detail["differs"] is False


def test_a_refund_seen_by_platform_and_gateway_counts_once(world: World) -> None:
    from hub.ledger import payments

    payment = world.order("1007", 9000)
    world.platform.request_refund("1007", 1000, request_id="rq-t")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    # the merchant refunds 2000 in the store's admin; the store's payment plugin pays it at the gateway
    world.gateway.ledger.add_dashboard_refund(payment, 2000)
    world.platform.refunds["1007"].append(
        {
            "id": "sr-merchant",
            "amount": 2000,
            "note": "",
            "hub_refund_id": None,
            "api_refund": True,
            "gateway_refund_id": None,
        }
    )
    world.platform.webhook(
        "refund.created", {"topic": "refund.created", "order_id": "1007", "refund_id": "sr-merchant"}
    )
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [requested] = [r for r in world.hub.refunds() if r.kind == "requested"]
    with world.hub.hub.engine.begin() as conn:
        assert payments.committed(conn, requested.payment_id) == 3000
    assert any(a.action == "linked_gateway_refund" for a in world.hub.audit())


def test_the_refund_job_ends_with_the_write_back_and_outlives_a_failed_one(world: World) -> None:
    from sqlalchemy import select

    from hub.db.tables import jobs
    from hub.work.runner import drain

    w = world
    w.order("1001", 5000)
    raw, headers = w.platform.request_refund("1001", 1000, send=False)
    assert w.post(raw, headers).status_code == 200
    w.platform.faults.add("error", status=503, method="POST", path=r"/orders/1001/refunds$", times=1)
    drain(w.hub.hub)  # delivery, then the refund job: the money moves, the write-back is refused
    [refund] = w.hub.refunds()
    assert refund.state == states.SUCCEEDED
    assert len(w.gateway_refunds()) == 1

    def refund_job_state() -> str:
        with w.hub.hub.engine.begin() as conn:
            return str(conn.execute(select(jobs.c.state).where(jobs.c.subject_id == refund.id)).scalar_one())

    assert refund_job_state() == "ready"  # kept, with backoff, to write back again
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert refund_job_state() == "done"
    assert len(w.gateway_refunds()) == 1
    assert len(w.platform.refunds["1001"]) == 1


def test_a_refund_that_cannot_be_taken_does_not_block_the_queue(world: World) -> None:
    from sqlalchemy import select

    from hub.db.tables import jobs
    from hub.work.runner import drain

    w = world
    engine = w.hub.hub.engine
    w.order("1001", 5000)
    raw, headers = w.platform.request_refund("1001", 1000, send=False)
    assert w.post(raw, headers).status_code == 200
    with engine.begin() as conn:  # the audit trail refuses the "executing" entry: taking the refund fails
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.action = 'executing' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    drain(w.hub.hub)  # must not raise: the refund job is claimed alone and retried with backoff
    [refund] = w.hub.refunds()
    with engine.begin() as conn:
        job = conn.execute(select(jobs).where(jobs.c.subject_id == refund.id)).one()
    assert refund.state == states.APPROVED
    assert w.gateway_refunds() == []
    assert job.state == "ready"
    assert "refused" in job.last_error
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse")
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.WRITTEN_BACK
    assert len(w.gateway_refunds()) == 1


def test_an_unreadable_dispute_status_sends_an_approval_to_review(world: World) -> None:
    w = world
    w.order("1001", 5000)
    w.gateway.faults.add("error", status=503, method="GET", path=r"^/payments/", times=100)
    raw, headers = w.platform.request_refund("1001", 1000, send=False)
    assert w.post(raw, headers).status_code == 200
    w.hub.settle(senders=[w.platform.sender])
    [refund] = w.hub.refunds()
    assert refund.state == states.REVIEW
    assert w.gateway_refunds() == []
    assert "could not be read" in refund.decision["dispute_unchecked"]
    assert refund.decision["decision"]["action"] == "approve"  # the policy would have paid it


def test_a_second_pending_answer_for_a_pending_refund_changes_nothing(world: World) -> None:
    from hub.contracts import Outcome, RefundResult
    from hub.pipeline.settle import settle

    w = world
    w.gateway.ledger.settle_after = 60  # stays pending at the gateway
    w.order("1005", 1500)
    w.platform.request_refund("1005", 1500, request_id="rq-p")
    w.hub.settle(senders=[w.platform.sender], until=lambda: bool(w.hub.refunds()))
    [refund] = w.hub.refunds()
    assert refund.state == states.PENDING
    again = RefundResult(outcome=Outcome.PENDING, gateway_refund_id=refund.gateway_refund_id)
    assert settle(w.hub.hub, refund.id, again, expect=states.PENDING, actor="gateway:sandbox").state == states.PENDING
    [refund] = w.hub.refunds()
    assert refund.state == states.PENDING
