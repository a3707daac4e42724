"""``simulate(processes=N)``: the same report as one process (samples in record order, errors
counted), progress every 1 000 records, CEL rules working in the forked workers."""

from __future__ import annotations

from typing import Any

from policy_factory import ASKED, line, policy, request

from hub.policy import DEFAULT_POLICY, History, SimulationRecord, decide, simulate

CANDIDATE: dict[str, Any] = {
    "fees": [{"name": "restocking", "percent": 10}],
    "rules": [{"name": "big", "when": "request.amount > 5000 && has(request.order.paid_at)", "effect": "review"}],
}


def records() -> list[SimulationRecord]:
    small, big = request(order_id="small"), request([line("1", 9_000)], order_id="big")
    out = []
    for n in range(2_600):
        built = big if n % 7 == 0 else small
        decided_at: Any = None if n in (5, 1_900) else ASKED  # a record whose re-decision raises
        stored = decide(DEFAULT_POLICY, built, History(), ASKED)
        out.append(SimulationRecord(f"r{n}", built, History(), decided_at, stored))
    return out


def test_processes_report_what_one_process_reports() -> None:
    data, candidate = records(), policy(**CANDIDATE)
    alone: list[int] = []
    together: list[int] = []
    expected = simulate(candidate, data, alone.append, sample=5)
    report = simulate(candidate, data, together.append, sample=5, processes=2)
    assert report == expected
    assert report.errors == 2
    assert report.error_ids == ("r5", "r1900")
    assert report.changed_ids == ("r0", "r1", "r2", "r3", "r4")
    assert ("approve", "review", 372) in report.transitions  # every 7th: the CEL rule, in the workers
    assert together == alone == [1_000, 2_000, 2_600]


def test_a_short_replay_stays_in_this_process() -> None:
    data = records()[:10]
    assert simulate(policy(**CANDIDATE), data, processes=4) == simulate(policy(**CANDIDATE), data)
