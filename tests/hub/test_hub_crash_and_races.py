"""Money safety under failure: a worker killed mid-refund, and concurrent over-asking deliveries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from hub.ledger import states
from hub.work.runner import drain
from tests.hub.conftest import World, make_world


def _wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def test_worker_killed_between_gateway_call_and_ledger_update(tmp_path: Path) -> None:
    for w in make_world(tmp_path, lease_seconds=2, queue_url=f"sqlite:///{tmp_path / 'queue.db'}"):
        w.order("2001", 7000)
        raw, headers = w.platform.request_refund("2001", 7000, request_id="rq-crash", send=False)
        assert w.post(raw, headers).status_code == 200
        w.gateway.webhook_url = None  # no status webhook: the janitor alone must find out
        # the gateway refunds, then sits on the response until the worker is dead
        w.gateway.faults.add("slow_response", seconds=30, method="POST", path="^/refunds$")
        config_file = tmp_path / "worker.json"
        config_file.write_text(json.dumps(w.hub.config.model_dump(mode="json", exclude={"source"})))
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "refund-hub"),
                "--config",
                str(config_file),
                "worker",
                "--threads",
                "2",
                "--no-janitor",
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(lambda w=w: len(w.gateway_refunds()) == 1)
            os.killpg(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(10)
        [refund] = w.hub.refunds()
        assert refund.state == states.EXECUTING  # the worker died before it could write anything
        w.gateway.faults.clear()
        time.sleep(2.1)  # let the lease run out
        w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
        [refund] = w.hub.refunds()
        assert refund.state == states.WRITTEN_BACK
        assert len(w.gateway_refunds()) == 1
        assert w.gateway_refunds()[0].id == refund.gateway_refund_id
        assert [r["hub_refund_id"] for r in w.platform.refunds["2001"]] == [refund.id]
        actions = [a.action for a in w.hub.audit(refund.id)]
        assert "lease_expired" in actions
        assert "resend_same_key" not in actions


def test_twenty_concurrent_deliveries_never_exceed_captured(any_world: World) -> None:
    w = any_world
    w.order("3001", 10_000)
    url = f"{w.hub.url}/webhooks/sandbox"
    bodies = [w.platform.request_refund("3001", 1000, request_id=f"rq-{i}", send=False) for i in range(20)]
    codes: list[int] = []

    def send(raw: bytes, headers: dict[str, str]) -> None:
        codes.append(requests.post(url, data=raw, headers=headers, timeout=10).status_code)

    senders = [threading.Thread(target=send, args=item) for item in bodies]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert codes == [200] * 20
    workers = [threading.Thread(target=drain, args=(w.hub.hub,)) for _ in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    w.hub.settle(senders=[w.platform.sender, w.gateway.sender])
    refunded = sum(r.amount for r in w.gateway_refunds() if r.status != "failed")
    assert refunded == 10_000
    by_state: dict[str, int] = {}
    for r in w.hub.refunds():
        by_state[r.state] = by_state.get(r.state, 0) + 1
    assert by_state == {states.WRITTEN_BACK: 10, states.REVIEW: 10}
