"""Huey is the one task API: the same ``drain`` task through SQLite storage and through Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from hub.work import queue


@pytest.mark.parametrize("storage", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_wake_up_runs_drain_in_the_consumer(storage: str, tmp_path: Path) -> None:
    if storage == "redis":
        url = "redis://127.0.0.1:6379/14"
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    ran: list[int] = []
    huey = queue.make_huey(url)
    dispatcher = queue.HueyDispatcher(huey, lambda: ran.append(1) or 1)
    dispatcher.wake()
    dispatcher.wake()
    assert len(huey) == 2  # two messages waiting; the database, not the queue, holds the work
    while len(huey):
        huey.execute(huey.dequeue())
    assert ran == [1, 1]


def test_unknown_queue_url_names_the_key() -> None:
    from hub.errors import ConfigError

    with pytest.raises(ConfigError, match="hub.queue_url"):
        queue.make_huey("amqp://nope")
