"""How the console shows money, times, states and decisions: plain words a merchant reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.models.money import CurrencyError, format_decimal

STATE_WORDS = {
    "requested": "Requested",
    "review": "In review",
    "offered": "Alternative offered",
    "approved": "Approved",
    "executing": "Sending",
    "pending": "Pending at gateway",
    "unknown": "Unknown outcome",
    "succeeded": "Refunded",
    "written_back": "Refunded · recorded",
    "denied": "Denied",
    "failed": "Failed",
    "recorded": "Recorded",
}
# badge colour families (the CSS names them)
STATE_TONE = {
    "requested": "neutral",
    "review": "attention",
    "offered": "attention",
    "approved": "info",
    "executing": "info",
    "pending": "info",
    "unknown": "critical",
    "succeeded": "success",
    "written_back": "success",
    "denied": "neutral",
    "failed": "critical",
    "recorded": "neutral",
}
HOLD_WORDS = {
    "balance_problem": "Balance check",
    "route_problem": "No refund route",
    "dispute_unchecked": "Dispute status unknown",
    "dispute_hold": "Open dispute",  # hub.pipeline.disputes.HOLD_KEY: held after approval
}
ACTION_WORDS = {
    "approve": "approve in full",
    "approve_partial": "approve part of it",
    "deny": "deny",
    "review": "send to a person",
    "offer": "offer an alternative",
}


def money(minor: int | None, currency: str) -> str:
    """``1,234.50 USD``: the amount with exactly the currency's minor-unit places."""
    if minor is None:
        return "—"
    try:
        text = format_decimal(minor, currency)
    except CurrencyError:
        return f"{minor} {currency} (minor units)"
    whole, _, frac = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return f"{'-' if minor < 0 else ''}{grouped} {currency}"


def when(at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def age(at: datetime | None, now: datetime | None = None) -> str:
    """How long ago, coarse: ``45 s``, ``12 min``, ``5 h``, ``3 d``."""
    if at is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(UTC)) - at).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def state_word(state: str) -> str:
    return STATE_WORDS.get(state, state.replace("_", " ").capitalize())


def state_tone(state: str) -> str:
    return STATE_TONE.get(state, "neutral")


def action_word(action: str) -> str:
    return action.replace("_", " ")


PASSING_EFFECTS = frozenset({"approve", "info"})  # rules that fired but did not hold the refund back
EFFECT_WORDS = {
    "approve": "allows",
    "deny": "denies",
    "review": "sends to a person",
    "reduce": "reduces the amount",
    "offer_alternative": "offers an alternative",
    "info": "notes",
}


def rules(decision: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """Every rule the policy fired: (rule, what it does in words, detail)."""
    found = []
    for hit in ((decision or {}).get("decision") or {}).get("rules", ()):
        if isinstance(hit, Mapping):
            effect = str(hit.get("effect", ""))
            found.append((str(hit.get("rule", "rule")), EFFECT_WORDS.get(effect, effect), str(hit.get("detail", ""))))
    return found


def reasons(decision: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Why a refund waits for a person: (short label, detail) for each rule that held it back
    (not those that allowed it) and each hold the hub added (balance, route, dispute check)."""
    if not decision:
        return []
    found: list[tuple[str, str]] = []
    for hit in (decision.get("decision") or {}).get("rules", ()):
        if isinstance(hit, Mapping) and hit.get("effect") not in PASSING_EFFECTS:
            found.append((str(hit.get("rule", "rule")), str(hit.get("detail", ""))))
    for key, label in HOLD_WORDS.items():
        if decision.get(key):
            found.append((label, str(decision[key])))
    return found


MONEY_KEYS = frozenset({"amount", "approved_amount", "refunded", "captured"})


def detail_text(detail: Mapping[str, Any], currency: str = "", people: Mapping[str, str] | None = None) -> str:
    """An audit entry's detail as ``key: value`` pairs, empty values left out; amounts in the
    refund's currency, user ids as the person's e-mail when known."""
    parts = []
    for key, value in detail.items():
        if value in (None, "", [], {}):
            continue
        if key in MONEY_KEYS and isinstance(value, int) and not isinstance(value, bool) and currency:
            value = money(value, currency)
        elif isinstance(value, str) and people and value in people:
            value = people[value]
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return " · ".join(parts)


DECISION_WORDS = {
    "approve": "Approved",
    "approve_partial": "Approved in part",
    "review": "Sent to a person",
    "deny": "Denied",
    "offer_alternative": "Alternative offered",
}
OUTCOME_ACTION = {"approved": "approve", "review": "review", "denied": "deny", "offered": "offer_alternative"}


def decision_word(action: str) -> str:
    return DECISION_WORDS.get(action, action.replace("_", " ").capitalize())


def outcome_word(outcome: str) -> str:
    """A simulation's outcome group (approve and approve_partial are both ``approved``)."""
    return decision_word(OUTCOME_ACTION.get(outcome, outcome))


def person(actor: str | None) -> str:
    """An audit actor as a merchant reads it: ``user:ana@example.com`` is ``ana@example.com``."""
    return (actor or "—").removeprefix("user:")
