"""What the engine answers: the action, the money, every rule that fired and why.

Stored as JSON in the audit trail (``to_dict`` / ``from_dict`` round-trip exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

Action = Literal["approve", "approve_partial", "deny", "review", "offer_alternative"]
Effect = Literal["approve", "deny", "review", "reduce", "offer_alternative", "info"]

ACTIONS: tuple[str, ...] = ("approve", "approve_partial", "deny", "review", "offer_alternative")
EFFECTS: tuple[str, ...] = ("approve", "deny", "review", "reduce", "offer_alternative", "info")
ALTERNATIVES: tuple[str, ...] = ("store_credit", "exchange")


class RuleHitDict(TypedDict):
    rule: str
    effect: str
    detail: str


class DecisionDict(TypedDict):
    """``Decision`` as JSON (the audit trail's ``decision`` entry)."""

    action: Action
    amount: int
    rules: list[RuleHitDict]
    explanation: str
    policy_version: str
    alternative: str | None
    line_amounts: list[list[str | int]]  # [line_id, amount] pairs


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired: ``rule`` is a stable id (``window.physical``, ``custom.vip``)."""

    rule: str
    effect: str
    detail: str

    def to_dict(self) -> RuleHitDict:
        return {"rule": self.rule, "effect": self.effect, "detail": self.detail}


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one refund request.

    ``amount`` is what the policy approves to go back to the original payment for ``approve`` and
    ``approve_partial``, and 0 for ``deny``. For ``review`` it is what the policy would pay if a
    person approves; for ``offer_alternative`` it is the value offered as store credit or exchange.
    Only ``refund_amount`` moves money to the original payment method.
    """

    action: Action
    amount: int
    rules: tuple[RuleHit, ...]
    explanation: str
    policy_version: str
    alternative: str | None = None
    line_amounts: tuple[tuple[str, int], ...] = ()

    @property
    def refund_amount(self) -> int:
        """Minor units to refund to the original payment method (0 unless approved)."""
        return self.amount if self.action in ("approve", "approve_partial") else 0

    def to_dict(self) -> DecisionDict:
        return {
            "action": self.action,
            "amount": self.amount,
            "rules": [hit.to_dict() for hit in self.rules],
            "explanation": self.explanation,
            "policy_version": self.policy_version,
            "alternative": self.alternative,
            "line_amounts": [[line_id, amount] for line_id, amount in self.line_amounts],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Decision:
        """From stored JSON, older rows included (missing keys take their defaults)."""
        action = d["action"]
        if action not in ACTIONS:
            raise ValueError(f"unknown decision action {action!r}")
        return cls(
            action=cast(Action, action),
            amount=int(d["amount"]),
            rules=tuple(RuleHit(str(h["rule"]), str(h["effect"]), str(h["detail"])) for h in d.get("rules", ())),
            explanation=str(d.get("explanation", "")),
            policy_version=str(d.get("policy_version", "")),
            alternative=d.get("alternative"),
            line_amounts=tuple((str(line_id), int(amount)) for line_id, amount in d.get("line_amounts", ())),
        )
