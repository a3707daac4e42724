"""What a draft would have done with a store's refunds, for the editor (the last N days) and
for the shadow (refunds decided since the shadow started): the replay of ``hub.policy.simulate``
over ``hub.ledger.history.decided_since``, told as counts per outcome before and after, money
that would move differently, and the refunds whose outcome changes.

Shadow is this same replay, limited to the refunds decided by the live policy since it started,
so it never acts: the pipeline does not know it exists. What the replay cannot rebuild is the
payment's dispute flag at that moment (not stored); a refund the live policy held for a dispute
can show as a disagreement."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hub.ledger.history import decided_since
from hub.ledger.unit import read
from hub.runtime.bootstrap import Hub

if TYPE_CHECKING:
    from hub.policy import Policy, SimulationReport

OUTCOME = {
    "approve": "approved",
    "approve_partial": "approved",
    "review": "review",
    "deny": "denied",
    "offer_alternative": "offered",
}
OUTCOMES = ("approved", "review", "denied", "offered")
MAX_DAYS = 365
SAMPLE = 50  # changed refunds listed (all are counted)
# the newest this many decided refunds are replayed: a page answers in seconds even for a policy
# with CEL rules (about 300 decisions a second, docs/policy.md "Performance")
MAX_RECORDS = 2_000


@dataclass(frozen=True)
class Change:
    refund_id: str
    order_id: str
    currency: str
    before: str
    before_amount: int
    after: str
    after_amount: int


@dataclass(frozen=True)
class Tally:
    outcome: str
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Simulation:
    label: str
    since: datetime
    total: int
    changed: int
    errors: int
    tallies: tuple[Tally, ...]
    money: tuple[tuple[str, int, int, int], ...]  # currency, net, more, less (minor units)
    changes: tuple[Change, ...]
    left_out: int = 0  # older decided refunds not replayed (over MAX_RECORDS)


def run(hub: Hub, connector: str, store_id: str, candidate: Policy, since: datetime) -> Simulation:
    from hub.policy import decide, simulate

    with read(hub.engine) as conn:
        records = list(decided_since(conn, since, candidate.history_lookback_days, (connector, store_id)))
    left_out = max(0, len(records) - MAX_RECORDS)
    records = records[left_out:]
    report = simulate(candidate, records, sample=SAMPLE)
    by_id = {r.refund_id: r for r in records}
    changes = []
    for refund_id in report.changed_ids:
        record = by_id[refund_id]
        new = decide(candidate, record.request, record.history, record.decided_at)
        old = record.decision
        changes.append(
            Change(
                refund_id,
                record.request.order_id,
                record.request.currency,
                old.action,
                old.amount,
                new.action,
                new.amount,
            )
        )
    return Simulation(
        candidate.version,
        since,
        report.total,
        report.changed,
        report.errors,
        _tallies(report),
        _money(report),
        tuple(changes),
        left_out,
    )


def last_days(hub: Hub, connector: str, store_id: str, candidate: Policy, days: int) -> Simulation:
    days = max(1, min(MAX_DAYS, days))
    return run(hub, connector, store_id, candidate, datetime.now(UTC) - timedelta(days=days))


def _tallies(report: SimulationReport) -> tuple[Tally, ...]:
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for old, new, count in report.transitions:
        before[OUTCOME.get(old, old)] += count
        after[OUTCOME.get(new, new)] += count
    return tuple(Tally(o, before[o], after[o]) for o in OUTCOMES)


def _money(report: SimulationReport) -> tuple[tuple[str, int, int, int], ...]:
    more, less = dict(report.money_more), dict(report.money_less)
    return tuple((c, net, more.get(c, 0), less.get(c, 0)) for c, net in report.money_delta)
