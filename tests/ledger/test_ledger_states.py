"""hub.ledger.states: the refund state machine as docs/architecture.md and the module describe it.

Every (from, to) pair is checked, allowed and refused, so a dropped or added edge fails; the state
names are stored in the database and shown on the API, so they are pinned too.
"""

from __future__ import annotations

import pytest

from hub.ledger import states

NAMES = {
    "REQUESTED": "requested",
    "REVIEW": "review",
    "DENIED": "denied",
    "OFFERED": "offered",
    "APPROVED": "approved",
    "EXECUTING": "executing",
    "PENDING": "pending",
    "UNKNOWN": "unknown",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "RECORDED": "recorded",
    "WRITTEN_BACK": "written_back",
}
ALL = sorted(NAMES.values())

# docs/architecture.md "The refund state machine", and the late failure of a success
# (a gateway may report a succeeded refund as failed after all: the money came back)
DOCUMENTED = {
    "requested": {"denied", "review", "offered", "approved"},
    "review": {"approved", "denied"},
    "offered": {"approved", "denied"},
    "approved": {"executing", "denied", "review"},  # review: a dispute opened before the money moved
    "executing": {"succeeded", "pending", "failed", "unknown", "approved"},
    "pending": {"succeeded", "failed", "unknown"},
    "unknown": {"succeeded", "pending", "failed", "executing"},
    "succeeded": {"written_back", "failed"},
    "written_back": {"failed"},
    "denied": set(),
    "failed": set(),
    "recorded": set(),
}


def test_state_names_are_the_stored_vocabulary() -> None:
    assert {name: getattr(states, name) for name in NAMES} == NAMES


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(states.TRANSITIONS) == set(ALL)


@pytest.mark.parametrize("current", ALL)
def test_allowed_and_refused_moves_from(current: str) -> None:
    allowed = {new for new in ALL if states.allowed(current, new)}
    assert allowed == DOCUMENTED[current]
    assert states.TRANSITIONS[current] == frozenset(DOCUMENTED[current])


def test_no_state_moves_to_itself() -> None:
    assert [s for s in ALL if states.allowed(s, s)] == []


def test_an_unknown_state_allows_nothing() -> None:
    assert not states.allowed("nonsense", states.APPROVED)
    assert not states.allowed(states.REQUESTED, "nonsense")


@pytest.mark.parametrize("new", ALL)
def test_sources_of(new: str) -> None:
    expected = sorted(s for s, nexts in DOCUMENTED.items() if new in nexts)
    assert states.sources_of(new) == expected


def test_sources_of_an_unreachable_state() -> None:
    assert states.sources_of(states.REQUESTED) == []
    assert states.sources_of(states.RECORDED) == []


def test_the_states_that_hold_money() -> None:
    # architecture.md: approved, executing, pending, unknown, succeeded and written_back count
    # against the captured amount; a refused, failed or undecided one does not
    assert {"approved", "executing", "pending", "unknown", "succeeded", "written_back"} == states.HOLDS_MONEY


def test_the_groups() -> None:
    assert {"unknown"} == states.IN_DOUBT
    assert {"executing", "pending", "unknown"} == states.UNRESOLVED
    assert {"written_back", "denied", "failed", "recorded"} == states.FINAL
    assert {"succeeded", "written_back"} == states.SUCCESSES


def test_final_states_leave_only_by_a_late_failure() -> None:
    for state in states.FINAL:
        assert states.TRANSITIONS[state] <= {states.FAILED}
