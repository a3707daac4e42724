"""Scale-out: several `refund-hub worker` processes over PostgreSQL and Redis share the work,
and every refund is executed exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from hub.ledger import states
from tests.conftest import PG_URL, private_schema
from tests.hub.conftest import make_world

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_two_workers_on_postgres_and_redis_execute_each_refund_once(tmp_path: Path, pg_available: bool) -> None:
    with private_schema(pg_available) as schema:
        run_two_workers(tmp_path, f"{PG_URL}?options=-csearch_path%3D{schema}")


def run_two_workers(tmp_path: Path, database_url: str) -> None:
    queue_url = "redis://127.0.0.1:6379/13"
    redis.Redis.from_url(queue_url).flushdb()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for w in make_world(tmp_path, database_url=database_url, queue_url=queue_url):
            orders = [f"60{n:02d}" for n in range(12)]
            for order in orders:
                w.order(order, 1500)
                raw, headers = w.platform.request_refund(order, 1500, request_id=f"rq-{order}", send=False)
                assert w.post(raw, headers).status_code == 200
            config = tmp_path / "worker.json"
            config.write_text(json.dumps(w.hub.config.model_dump(mode="json", exclude={"source"})))
            command = [
                str(Path(sys.executable).parent / "refund-hub"),
                "--config",
                str(config),
                "worker",
                "--threads",
                "4",
            ]
            workers = [
                subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(2)
            ]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(r.state == states.WRITTEN_BACK for r in w.hub.refunds()) and len(w.hub.refunds()) == 12:
                    break
                time.sleep(0.2)
            refunds = w.hub.refunds()
            assert sorted(r.order_id for r in refunds) == orders
            assert {r.state for r in refunds} == {states.WRITTEN_BACK}
            keys = [r.key for r in w.gateway_refunds()]
            assert len(keys) == 12
            assert len(set(keys)) == 12
            assert all(len(w.platform.refunds[o]) == 1 for o in orders)  # one write-back each
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
