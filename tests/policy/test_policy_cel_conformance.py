"""The CEL the hub promises (docs/policy.md, "custom rules in CEL"), checked against the runtime
it ships with: int/uint/double arithmetic and its overflow, conversions, strings, lists and maps,
``in``, the macros, ``has()`` on unknown values, timestamps and durations, null, and errors that
are absorbed by ``&&``/``||`` as the spec says.

Every case runs through the hub's own path: compiled as a rule (``REJECTED``: refused when the
policy loads) and evaluated on a request converted as a decision converts it (``ERROR``: the
rule could not decide, so it fails safe).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from policy_factory import ASKED, T0, history, line, policy, prior, request

from hub.policy import cel
from hub.policy.context import Context
from hub.policy.custom import facts, history_numbers
from hub.policy.errors import PolicyError

REJECTED, ERROR = "rejected when the policy loads", "fails when it runs"
NOW = ASKED + timedelta(days=1)  # 2025-03-12 15:00 UTC, a Wednesday; the order: T0, Monday 2025-03-03 15:00 UTC

CASES: list[tuple[str, bool | str]] = [
    # int, uint and double arithmetic
    ("1 + 2 * 3 == 7", True),
    ("7 / 2 == 3 && -7 / 2 == -3", True),  # integer division truncates
    ("7 % 3 == 1 && -7 % 3 == -1", True),
    ("7u / 2u == 3u && 3u * 2u == 6u", True),
    ("2.5 * 2.0 == 5.0 && 1.0 / 0.0 > 1e308", True),  # doubles follow IEEE 754
    ("request.amount * 2 == 22000 && request.amount - 11000 == 0", True),
    # overflow is an error, never a wrapped number
    ("9223372036854775807 + 1 > 0", ERROR),
    ("-9223372036854775808 - 1 < 0", ERROR),
    ("9223372036854775807 * 2 > 0", ERROR),
    ("-(-9223372036854775808) > 0", ERROR),
    ("request.amount * 9223372036854775807 > 0", ERROR),
    ("18446744073709551615u + 1u > 0u", ERROR),
    ("0u - 1u > 0u", ERROR),
    ("1 / 0 == 0", ERROR),
    ("1 % 0 == 0", ERROR),
    ("request.amount / (request.shipping - 0) > 1", ERROR),
    # no implicit conversion between int, uint and double in arithmetic
    ("1 + 1u == 2", REJECTED),
    ("1 + 1.5 > 0.0", REJECTED),
    ("request.amount + 1.5 > 0.0", ERROR),
    # comparisons across number types are defined (cel-spec: "ordering" of numbers)
    ("request.amount > 1.5 && request.amount < 11000.5 && request.amount >= 11000u", True),
    # conversions
    ("int(2.9) == 2 && uint(3) == 3u && double(3) == 3.0", True),
    ("double(request.amount) / 100.0 == 110.0", True),
    ("int('12') == 12 && string(request.amount) == '11000'", True),
    ("int('x') == 1", ERROR),
    ("uint(-1) == 1u", ERROR),
    ("int(1e20) == 1", ERROR),
    # strings
    ("'abc'.startsWith('ab') && 'abc'.endsWith('bc') && 'abc'.contains('b')", True),
    ("request.customer.email.endsWith('@example.com') && request.customer.email.matches('^ann@')", True),
    ("size('héllo') == 5 && 'héllo'.size() == 5", True),  # code points, not bytes
    ("size(request.reason) == 7 && request.reason == 'damaged'", True),
    ("'a' + 'b' == 'ab' && 'a' < 'b'", True),
    ("request.reason > 1", ERROR),
    ("request.amount > 'x'", ERROR),
    ("request.reason.startsWith(1)", REJECTED),
    # lists, maps and in
    ("'formalwear' in request.lines[0].tags", True),
    ("'x' in request.lines[0].tags", False),
    ("request.reason in ['damaged', 'defective']", True),
    ("'amount' in request && !('hub_refund_id' in request)", True),
    ("size(request.lines) == 2 && request.lines.size() == 2", True),
    ("request.lines.exists(l, l.kind == 'digital') && request.lines.all(l, l.quantity >= 1)", True),
    ("request.lines.exists_one(l, l.kind == 'digital')", True),
    ("request.lines.filter(l, l.kind == 'physical').size() == 1", True),
    ("5000 in request.lines.map(l, l.total) && !(11000 in request.lines.map(l, l.total))", True),
    ("request.lines[0].usage.downloads == 1", True),
    ("[1, 2][5] == 1", ERROR),
    ("{'a': 1}['a'] == 1 && [1, 2] + [3] == [1, 2, 3]", True),
    # unknown values are absent: has() tells, reading one is an error
    ("has(history.order_count) && !has(history.order_total)", True),
    ("has(request.order.paid_at) && !has(request.order.delivered_at)", True),
    ("has(facts.days_since_delivery)", False),
    ("history.order_total > 1", ERROR),
    ("request.order.delivered_at < now", ERROR),
    ("has(history.order_total) && history.order_total > 1", False),
    ("!has(history.order_total) || history.order_total > 1", True),
    ("has(request)", REJECTED),
    # && and || absorb an error when the other side decides (commutative, as the spec says)
    ("false && 1 / 0 == 1", False),
    ("1 / 0 == 1 && false", False),
    ("true || 1 / 0 == 1", True),
    ("1 / 0 == 1 || true", True),
    ("1 / 0 == 1 || false", ERROR),
    ("(request.amount > 1 ? 'a' : 'b') == 'a' && !false", True),
    # null
    ("null == null && request.amount != null", True),
    ("request.amount > null", ERROR),
    ("history.payment_disputed == false", True),
    # timestamps and durations
    ("now > request.requested_at && now - request.requested_at == duration('24h')", True),
    ("now - request.order.created_at > duration('192h')", True),
    ("request.order.created_at + duration('24h') < now", True),
    ("duration('1h30m') == duration('90m') && duration('1h') > duration('59m')", True),
    ("timestamp('2025-03-03T15:00:00Z') == request.order.created_at", True),
    ("request.order.created_at.getFullYear() == 2025 && request.order.created_at.getMonth() == 2", True),
    ("request.order.created_at.getDate() == 3 && request.order.created_at.getDayOfWeek() == 1", True),
    ("now.getHours() == 15 && request.order.created_at.getHours('Europe/Berlin') == 16", True),
    ("duration('86400s').getHours() == 24", True),
    ("int(now) - int(request.order.created_at) == 9 * 86400", True),
    ("string(request.order.created_at) == '2025-03-03T15:00:00Z'", True),
    ("timestamp('not a time') < now", ERROR),
    ("duration('1x') > duration('1h')", ERROR),
    ("now - request.order.paid_at > 8", ERROR),
    ("now + 1 > now", REJECTED),
    # history and facts
    ("history.customer_refunds == 1 && history.refunds == 1 && history.customer_refunded == 700", True),
    ("facts.merchant_fault && facts.days_since_order == 8", True),
    # a rule is a condition
    ("request.amount", ERROR),
    ("request.amount + 1", REJECTED),
]


def _values() -> dict[str, Any]:
    req = request(
        [
            line("1", 5_000, kind="digital", tags=("formalwear",), usage={"downloads": 1}),
            line("2", 3_000, quantity=2),
        ],
        reason="damaged",
        delivered=None,
    )
    ctx = Context(policy(), req, history(prior(3, amount=700), customer_order_count=25), NOW)
    return {
        "request": cel.request_map(req),
        "history": {k: v for k, v in history_numbers(ctx).items() if v is not None},
        "facts": {k: v for k, v in facts(ctx).items() if v is not None},
        "now": cel.timestamp(NOW),
    }


VALUES = _values()


def outcome(text: str) -> bool | str:
    try:
        program, _, _ = cel.compile_rule("rules[0].when", "case", text)
    except PolicyError:
        return REJECTED
    try:
        return cel.evaluate(program, cel.activation(VALUES))
    except cel.CustomRuleError:
        return ERROR


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_cel_conformance(text: str, expected: bool | str) -> None:
    assert outcome(text) == expected


def test_the_dates_are_what_the_cases_assume() -> None:
    assert datetime(2025, 3, 3, 15, tzinfo=UTC) == T0
    assert T0.weekday() == 0
    assert datetime(2025, 3, 12, 15, tzinfo=UTC) == NOW
