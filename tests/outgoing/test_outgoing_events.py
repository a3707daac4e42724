"""Which audit entries are which refund events (most are none)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.ledger.webhook_events import EVENT_TYPES, event_types

CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("requested", {"amount": 1}, ("refund.requested",)),
    ("duplicate_request", {}, ()),
    ("decided", {"state": "approved", "rules": ["window"]}, ("refund.decided",)),
    ("decided", {"state": "offered", "rules": []}, ("refund.decided", "refund.alternative_issued")),
    ("decided", {"state": "review", "rules": ["hard.dispute"]}, ("refund.decided", "refund.dispute_opened")),
    ("decided", {"state": "review", "dispute": "tender t-1 is disputed"}, ("refund.decided", "refund.dispute_opened")),
    ("reviewed", {"state": "denied"}, ("refund.decided",)),
    ("first_approval", {"amount": 1}, ()),
    ("executor_result", {"outcome": "succeeded", "applied": True}, ("refund.succeeded",)),
    ("executor_result", {"outcome": "failed", "applied": True}, ("refund.failed",)),
    ("executor_result", {"outcome": "succeeded", "applied": False}, ()),  # the same answer again
    ("executor_result", {"outcome": "pending", "applied": True}, ()),
    ("failed_after_success", {}, ()),  # its executor_result said it already
    ("written_back", {}, ("refund.written_back",)),
    ("held_for_dispute", {"dispute_id": "dp_1"}, ("refund.dispute_opened",)),
    ("dispute_while_executing", {"dispute_id": "dp_1"}, ("refund.dispute_opened",)),
    ("webhook_endpoint_disabled", {}, ("webhook.endpoint_disabled",)),
    ("noted", {}, ()),
]


@pytest.mark.parametrize(("action", "detail", "expected"), CASES)
def test_audit_entries_map_to_events(action: str, detail: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert event_types(action, detail) == expected


def test_every_event_type_is_produced_by_some_entry() -> None:
    produced = {t for action, detail, _ in CASES for t in event_types(action, detail)}
    assert produced == set(EVENT_TYPES)
