"""Replay stored decisions under a candidate policy and count what would change (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.models import RefundRequest
from hub.policy.decision import Decision
from hub.policy.engine import decide
from hub.policy.history import History
from hub.policy.policy import Policy

PROGRESS_EVERY = 1_000


@dataclass(frozen=True)
class SimulationRecord:
    """A past decision as the audit trail stored it, with the inputs it was made from."""

    refund_id: str
    request: RefundRequest
    history: History
    decided_at: datetime
    decision: Decision


@dataclass(frozen=True)
class SimulationReport:
    """What the candidate would have done differently.

    ``transitions`` counts every (old action, new action) pair, unchanged ones included.
    ``money_delta`` is, per currency, the money that would go back to original payments under
    the candidate minus what the stored decisions sent (``refund_amount``); ``money_more`` and
    ``money_less`` split it into the records that would pay more and those that would pay less.
    A record is changed when its action or its amount differs.
    """

    candidate_version: str
    total: int
    changed: int
    transitions: tuple[tuple[str, str, int], ...]
    money_delta: tuple[tuple[str, int], ...]
    money_more: tuple[tuple[str, int], ...]
    money_less: tuple[tuple[str, int], ...]
    changed_ids: tuple[str, ...]
    sample_limit: int
    old_versions: tuple[tuple[str, int], ...]
    errors: int = 0
    error_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_version": self.candidate_version,
            "total": self.total,
            "changed": self.changed,
            "transitions": [list(t) for t in self.transitions],
            "money_delta": dict(self.money_delta),
            "money_more": dict(self.money_more),
            "money_less": dict(self.money_less),
            "changed_ids": list(self.changed_ids),
            "sample_limit": self.sample_limit,
            "old_versions": dict(self.old_versions),
            "errors": self.errors,
            "error_ids": list(self.error_ids),
        }


@dataclass
class Tally:
    """What a replay has counted so far (picklable: a worker process sends its part back)."""

    sample: int
    total: int = 0
    changed: int = 0
    errors: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    delta: Counter[str] = field(default_factory=Counter)
    more: Counter[str] = field(default_factory=Counter)
    less: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    changed_ids: list[str] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)

    def failed(self, record: SimulationRecord) -> None:
        self.errors += 1
        if len(self.error_ids) < self.sample:
            self.error_ids.append(record.refund_id)

    def decided(self, record: SimulationRecord, new: Decision) -> None:
        old = record.decision
        self.transitions[(old.action, new.action)] += 1
        if new.action != old.action or new.amount != old.amount:
            self.changed += 1
            if len(self.changed_ids) < self.sample:
                self.changed_ids.append(record.refund_id)
        moved = new.refund_amount - old.refund_amount
        if moved:
            currency = record.request.currency
            self.delta[currency] += moved
            (self.more if moved > 0 else self.less)[currency] += moved

    def merge(self, later: Tally) -> None:
        """Add the tally of the records that came after this one's (the samples stay the first ones)."""
        self.total += later.total
        self.changed += later.changed
        self.errors += later.errors
        self.transitions.update(later.transitions)
        self.delta.update(later.delta)
        self.more.update(later.more)
        self.less.update(later.less)
        self.versions.update(later.versions)
        self.changed_ids = (self.changed_ids + later.changed_ids)[: self.sample]
        self.error_ids = (self.error_ids + later.error_ids)[: self.sample]

    def report(self, candidate: Policy) -> SimulationReport:
        return SimulationReport(
            candidate_version=candidate.version,
            total=self.total,
            changed=self.changed,
            transitions=tuple((a, b, n) for (a, b), n in sorted(self.transitions.items())),
            money_delta=tuple(sorted(self.delta.items())),
            money_more=tuple(sorted(self.more.items())),
            money_less=tuple(sorted(self.less.items())),
            changed_ids=tuple(self.changed_ids),
            sample_limit=self.sample,
            old_versions=tuple(sorted(self.versions.items())),
            errors=self.errors,
            error_ids=tuple(self.error_ids),
        )


def simulate(
    candidate: Policy,
    records: Iterable[SimulationRecord],
    progress: Callable[[int], None] | None = None,
    *,
    sample: int = 50,
    processes: int = 1,
) -> SimulationReport:
    """Decide every record again under ``candidate`` at its original ``decided_at``.

    ``progress`` is called with the running number of records processed (every 1 000 and at the
    end). A record whose re-decision raises is counted in ``errors`` and the run goes on.
    ``processes`` above 1 shares the records out to that many forked processes (where the
    platform forks; the report is the same): for a command-line replay, never inside a web worker.
    """
    if processes > 1:
        from hub.policy.simulate_processes import replay_in_processes

        return replay_in_processes(candidate, list(records), progress, sample, processes).report(candidate)
    tally = Tally(sample)
    replay(candidate, records, tally, progress)
    return tally.report(candidate)


def replay(
    candidate: Policy,
    records: Iterable[SimulationRecord],
    tally: Tally,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Add each record's re-decision to ``tally``; ``progress`` every 1 000 records and at the end."""
    for record in records:
        tally.total += 1
        tally.versions[record.decision.policy_version] += 1
        try:
            new = decide(candidate, record.request, record.history, record.decided_at)
        except Exception:  # noqa: BLE001 - one bad record must not sink a 90-day replay; it is reported
            tally.failed(record)
        else:
            tally.decided(record, new)
        if progress is not None and tally.total % PROGRESS_EVERY == 0:
            progress(tally.total)
    if progress is not None and tally.total % PROGRESS_EVERY:
        progress(tally.total)
