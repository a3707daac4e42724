"""The audit trail's hash chain, as pure functions: how an entry is hashed, and how a run of
entries is checked. The database check (``hub.ledger.audit.verify``) and the offline check of a
signed export (``refund-hub audit verify-export``) both use these, so they cannot disagree.

An entry's hash is SHA-256 over its canonical JSON (keys sorted, no spaces, UTF-8) of
``chain, seq, prev_hash, at, actor, action, refund_id, delivery_id, detail``; ``prev_hash`` is the
hash of the entry before it in the same chain (``GENESIS`` for the first). Changing, removing or
reordering an entry breaks a link or a hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
HUB_CHAIN = "-"  # entries about no store (the hub's own) chain here
HASHED = ("chain", "seq", "prev_hash", "at", "actor", "action", "refund_id", "delivery_id", "detail")


def stamp(at: datetime) -> str:
    """A time as the chain hashes it: UTC, always with microseconds (isoformat drops zeros)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def normalized(detail: Mapping[str, Any]) -> dict[str, Any]:
    """``detail`` as it comes back from a JSON column (tuples as lists, keys as text), so the
    hash computed before the write is the hash of what is read back."""
    return dict(json.loads(canonical(dict(detail))))


def digest(entry: Mapping[str, Any]) -> str:
    """The hash of one entry (a mapping with at least the ``HASHED`` fields; ``at`` stamped)."""
    return hashlib.sha256(canonical({name: entry[name] for name in HASHED}).encode()).hexdigest()


@dataclass
class ChainCheck:
    """What checking one chain found. ``problems`` empty: every entry is as it was written."""

    chain: str
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_prev: str | None = None
    last_hash: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_run(
    chain: str, entries: Iterable[Mapping[str, Any]], *, start: tuple[int, str] | None = (0, GENESIS)
) -> ChainCheck:
    """Check entries of one chain, in ``seq`` order, each with ``id`` and the ``HASHED`` fields.

    ``start``: (seq, hash) the run must continue from — (0, GENESIS) for a whole chain, None
    for a period export, whose first entry links to an entry outside it."""
    report = ChainCheck(chain)
    previous: tuple[int, str] | None = start
    last_id: Any = None
    for entry in entries:
        seq, recorded = int(entry["seq"]), str(entry["hash"])
        where = f"entry {seq} (id {entry['id']})"
        if report.first_seq is None:
            report.first_seq, report.first_prev = seq, str(entry["prev_hash"])
        if previous is not None:
            if seq > previous[0] + 1:
                report.problems.append(f"entries {previous[0] + 1}..{seq - 1} are missing (removed)")
            elif seq <= previous[0]:
                report.problems.append(f"{where} repeats or goes back in the chain (reordered)")
            if entry["prev_hash"] != previous[1]:
                report.problems.append(f"{where} does not link to the entry before it")
        if last_id is not None and entry["id"] <= last_id:
            report.problems.append(f"{where} is out of order (reordered)")
        if entry["chain"] != chain or digest(entry) != recorded:
            report.problems.append(f"{where} was changed after it was written")
        previous, last_id = (seq, recorded), entry["id"]
        report.entries += 1
        report.last_seq, report.last_hash = seq, recorded
    return report
