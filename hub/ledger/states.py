"""The refund state machine. Every change is a compare-and-set on the current state.

requested ──► denied | review | offered | approved
review ─────► approved | denied          (a person decides)
offered ────► approved | denied          (customer took or refused the alternative)
approved ───► executing                  (a worker claimed it; the key is already stored)
           └► review                     (held: a dispute opened on the payment before the money moved)
executing ──► succeeded | pending | failed | unknown | approved (surely not sent: retry)
pending ────► succeeded | failed | unknown
unknown ────► succeeded | pending | failed | executing (re-sent with the SAME key)
succeeded ──► written_back | failed      (outcome recorded on the platform; or the gateway reports
written_back ► failed                     a late failure: the money came back, a person fixes the store)
recorded                                 (a refund that exists on the platform already)
"""

from __future__ import annotations

REQUESTED = "requested"
REVIEW = "review"
DENIED = "denied"
OFFERED = "offered"
APPROVED = "approved"
EXECUTING = "executing"
PENDING = "pending"
UNKNOWN = "unknown"
SUCCEEDED = "succeeded"
FAILED = "failed"
RECORDED = "recorded"
WRITTEN_BACK = "written_back"

TRANSITIONS: dict[str, frozenset[str]] = {
    REQUESTED: frozenset({DENIED, REVIEW, OFFERED, APPROVED}),
    REVIEW: frozenset({APPROVED, DENIED}),
    OFFERED: frozenset({APPROVED, DENIED}),
    APPROVED: frozenset({EXECUTING, DENIED, REVIEW}),
    EXECUTING: frozenset({SUCCEEDED, PENDING, FAILED, UNKNOWN, APPROVED}),
    PENDING: frozenset({SUCCEEDED, FAILED, UNKNOWN}),
    UNKNOWN: frozenset({SUCCEEDED, PENDING, FAILED, EXECUTING}),
    SUCCEEDED: frozenset({WRITTEN_BACK, FAILED}),
    WRITTEN_BACK: frozenset({FAILED}),
    DENIED: frozenset(),
    FAILED: frozenset(),
    RECORDED: frozenset(),
}

# states whose amount counts against the payment's refundable balance (invariant 2);
# a RECORDED refund counts too when money moved
HOLDS_MONEY = frozenset({APPROVED, EXECUTING, PENDING, UNKNOWN, SUCCEEDED, WRITTEN_BACK})
# money may have moved and nobody knows yet: no new refund on the payment (invariant 3);
# an EXECUTING refund is counted in the balance and becomes UNKNOWN if its worker dies
IN_DOUBT = frozenset({UNKNOWN})
UNRESOLVED = frozenset({EXECUTING, PENDING, UNKNOWN})
# the hub's work on the refund is done (a gateway may still report a late failure of a success)
FINAL = frozenset({WRITTEN_BACK, DENIED, FAILED, RECORDED})
# a gateway may report these as failed after all (Stripe: a succeeded refund can still fail)
SUCCESSES = frozenset({SUCCEEDED, WRITTEN_BACK})


def allowed(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def sources_of(new: str) -> list[str]:
    """Every state the refund may move to ``new`` from."""
    return sorted(s for s, nexts in TRANSITIONS.items() if new in nexts)
