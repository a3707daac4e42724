"""``refund_hub_policy_unknown_inputs_total`` counts the rules a decision could not evaluate."""

from __future__ import annotations

from prometheus_client import REGISTRY

from hub.runtime.metrics import count_unknown_inputs

NAME = "refund_hub_policy_unknown_inputs_total"


def _count(rule: str, connector: str) -> float:
    return REGISTRY.get_sample_value(NAME, {"rule": rule, "connector": connector}) or 0.0


def test_each_unknown_hit_counts_once_by_rule_and_connector() -> None:
    before = _count("abuse.ratio", "magento"), _count("digital.downloads", "magento"), _count("abuse.ratio", "shopify")
    count_unknown_inputs(["abuse.ratio", "unknown.abuse.ratio", "unknown.digital.downloads"], "magento")
    count_unknown_inputs(["unknown.abuse.ratio"], "magento")
    after = _count("abuse.ratio", "magento"), _count("digital.downloads", "magento"), _count("abuse.ratio", "shopify")
    assert [a - b for a, b in zip(after, before, strict=True)] == [2.0, 1.0, 0.0]
