"""A yen refund through the whole hub under the default policy: a few thousand yen is refunded
at once (``review_above = 500`` means a dollar-sized 500, ¥75 000, not ¥500), a large one waits
for a person. Stripe's simulator takes JPY as a zero-decimal currency, as Stripe does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.ledger import states
from tests.gateways.conftest import CASES, GatewayWorld, make_gateway_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["stripe"], tmp_path)


def test_a_few_thousand_yen_is_refunded_without_a_person(world: GatewayWorld) -> None:
    w = world
    small = w.order("9001", 4_800, "JPY")
    large = w.order("9002", 90_000, "JPY")
    w.ask("9001", 4_800, request_id="rq-yen-small")
    w.ask("9002", 90_000, request_id="rq-yen-large")
    w.settle(until=w.in_state("rq-yen-small", states.WRITTEN_BACK))

    refunded = w.refund("rq-yen-small")
    assert refunded.state == states.WRITTEN_BACK
    assert [r["rule"] for r in refunded.decision["decision"]["rules"]] == ["amount.auto_approve"]
    [at_gateway] = w.gateway_refunds(small)
    assert (at_gateway.amount, at_gateway.currency) == (4_800, "JPY")

    held = w.refund("rq-yen-large")
    assert held.state == states.REVIEW
    [why] = [r for r in held.decision["decision"]["rules"] if r["rule"] == "amount.review"]
    assert why["detail"] == "90000 JPY is above the review threshold 75000 JPY"
    assert w.gateway_refunds(large) == []
