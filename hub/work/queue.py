"""Huey as the one task API: ``SqliteHuey`` embedded, ``RedisHuey`` at scale, the same task.

There is exactly one task, ``drain``: it claims runnable job rows from the database and runs
them. A message only wakes a worker; the job rows are the truth, so a message Huey drops (a
consumer killed mid-task) costs nothing but latency — the janitor wakes a worker again.
Keeping dispatch behind ``HueyDispatcher.wake`` means another engine is one small class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from hub.errors import ConfigError

log = logging.getLogger(__name__)
QUEUE_NAME = "refund-hub"


def make_huey(url: str) -> Huey:
    """``sqlite:///path``, ``redis://host:port/db`` or ``memory`` (tests, single process)."""
    if url == "memory":
        return MemoryHuey(QUEUE_NAME, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    raise ConfigError("hub.queue_url", f"unsupported queue URL {url!r}: use sqlite:///path, redis://... or memory")


_runner: Callable[[], int] | None = None  # what ``drain`` runs in this process (set by the dispatcher)


def drain() -> int:
    """The one task. Module-level so its registered name is the same in every process."""
    return _runner() if _runner is not None else 0


class HueyDispatcher:
    """Registers ``drain`` on the Huey instance; ``wake`` enqueues it."""

    def __init__(self, huey: Huey, runner: Callable[[], int]) -> None:
        global _runner
        _runner = runner
        self.huey = huey
        self._task = huey.task(retries=0)(drain)

    def wake(self) -> None:
        try:
            self._task()
        except Exception:  # the job row is committed; the janitor will wake a worker instead
            log.exception("could not enqueue a wake-up")
