"""Where ``bench/gateways.py``'s hub keeps its ledger and its queue: the embedded default (a SQLite
file; the worker processes need no queue there), or the scale-out configuration of
docs/configuration.md — PostgreSQL (``hub.database_url``) and Huey on Redis (``hub.queue_url``).

PostgreSQL runs in a fresh schema of database ``test`` on 127.0.0.1:5432, dropped afterwards;
Redis on 127.0.0.1:6379 in this bench's own database, under a queue name of its own per run
(``refund_hub_bench_<token>``), whose keys are deleted afterwards. Runs of other benches
and of the tests use other Redis databases (docs/benchmarks.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/12"  # faults uses 11, the tests 13-15, ingest 15
KINDS = ("sqlite", "postgres")


@dataclass
class Backing:
    kind: str  # "sqlite" or "postgres" (PostgreSQL + Redis)
    schema: str = ""
    queue_name: str = ""
    _engine: Any = field(default=None, repr=False)

    @property
    def scale_out(self) -> bool:
        return self.kind == "postgres"

    @property
    def hub_settings(self) -> dict[str, str]:
        """What goes into ``[hub]``: nothing for SQLite (the harness's file), the URLs otherwise."""
        if not self.scale_out:
            return {}
        return {"database_url": f"{PG_URL}?options=-csearch_path%3D{self.schema}", "queue_url": REDIS_URL}

    def create(self) -> Backing:
        if not self.scale_out:
            return self
        import redis
        import sqlalchemy as sa

        token = uuid.uuid4().hex[:10]
        self.schema, self.queue_name = f"bench_gw_{token}", f"refund_hub_bench_{token}"
        try:
            self._engine = sa.create_engine(PG_URL)
            with self._engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            redis.Redis.from_url(REDIS_URL).ping()
        except Exception as exc:  # noqa: BLE001 - a missing server ends the bench with a sentence
            raise SystemExit(
                f"--database postgres needs PostgreSQL on 127.0.0.1:5432 (database 'test') and Redis on "
                f"127.0.0.1:6379 (`bash scripts/services.sh` starts both): {type(exc).__name__}: {exc}"
            ) from exc
        return self

    def huey(self) -> Any:
        """The hub's ``RedisHuey`` (``hub.work.queue.make_huey``) under this run's queue name."""
        from huey import RedisHuey

        return RedisHuey(self.queue_name, url=REDIS_URL, results=False)

    def drop(self) -> None:
        if not self.scale_out or self._engine is None:
            return
        import redis
        import sqlalchemy as sa

        with self._engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self._engine.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"huey.*.{self.queue_name}*"))
        if keys:
            client.delete(*keys)
