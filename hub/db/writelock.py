"""SQLite writers wait in a kernel queue instead of polling.

SQLite allows one writer. A connection that finds the write lock taken sleeps in its busy
handler for 1, 2, 5, 10 … ms and tries again, so under concurrent webhooks most of the wait
is sleep after the lock was already free: throughput drops and the p99 grows by tens of ms.
``QueuedWriterConnection`` takes an exclusive ``flock`` on ``<database>-writer`` before
``BEGIN IMMEDIATE`` and drops it right after COMMIT or ROLLBACK, so the next writer — in any
process of this host — is woken the moment the lock is free. The kernel drops the lock of a
process that dies. SQLite's own lock still guards the data; this only orders the waiters.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from typing import Any

_held = threading.local()  # how many writer locks this thread holds, across connections


class QueuedWriterConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose write transactions queue on a lock file (see module)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fspath(database)
        on_disk = name not in ("", ":memory:") and not name.startswith("file:")
        self._lock_path = f"{name}-writer" if on_disk else None
        self._wal_path = f"{name}-wal" if on_disk else None
        self._lock_fd: int | None = None
        self._holding = False
        self._sync_wal = False

    def acquire_writer(self) -> None:
        """Wait for this host's other writers; call right before ``BEGIN IMMEDIATE``."""
        if self._lock_path is None or self._holding:
            return
        if getattr(_held, "count", 0):
            # this thread already writes on another connection: waiting here would wait for
            # itself, so leave it to SQLite's busy timeout, which fails instead of hanging
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self._holding = True
        _held.count = getattr(_held, "count", 0) + 1

    def release_writer(self) -> None:
        if self._holding and self._lock_fd is not None:
            self._holding = False
            _held.count -= 1
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def sync_wal_after_commit(self) -> None:
        """Make the coming COMMIT durable although this transaction runs with synchronous=NORMAL
        (SQLite refuses to change that inside a transaction): the WAL file is fsynced after the
        commit, outside the writer queue. In WAL mode a committed frame is either still in the
        WAL, which that fsync makes durable, or was checkpointed, which syncs it first."""
        self._sync_wal = self._wal_path is not None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer()
        if self._sync_wal:
            self._sync_wal = False
            _fsync_path(self._wal_path)  # type: ignore[arg-type]

    def rollback(self) -> None:
        self._sync_wal = False
        try:
            super().rollback()
        finally:
            self.release_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def _fsync_path(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL: everything is in the database file already, synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
