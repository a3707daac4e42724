"""The refund policy engine: load a merchant's policy, decide one request, simulate a candidate.

Pure functions over the normalized ``RefundRequest`` and a ``History`` the ledger supplies;
no database, no clock reads, no I/O in ``decide`` or ``simulate``.
"""

from __future__ import annotations

from hub.policy.decision import Decision, RuleHit
from hub.policy.defaults import DEFAULT_POLICY
from hub.policy.engine import decide
from hub.policy.errors import PolicyError
from hub.policy.history import History, PriorRefund, normalize_email, payment_fingerprint
from hub.policy.loader import load_policy
from hub.policy.policy import Policy
from hub.policy.simulate import SimulationRecord, SimulationReport, simulate

__all__ = [
    "DEFAULT_POLICY",
    "Decision",
    "History",
    "Policy",
    "PolicyError",
    "PriorRefund",
    "RuleHit",
    "SimulationRecord",
    "SimulationReport",
    "decide",
    "load_policy",
    "normalize_email",
    "payment_fingerprint",
    "simulate",
]
