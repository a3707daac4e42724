"""Money thresholds per currency: a bare amount (``review_above = 500``) is in the policy's base
currency and converted, so ¥500 never sends every yen refund to a person.

Per-currency amounts win; then the merchant's ``[currencies] rates``; then coarse built-in
magnitudes for small-unit currencies; anything else counts one to one. ``policy check`` lists
what each threshold is in each currency it treats differently.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from policy_factory import ASKED, history, line, policy, prior, request

from hub.cli.policy import policy_group
from hub.policy import DEFAULT_POLICY, Decision, History, PolicyError, decide
from hub.policy.currencies import SMALL_UNITS, Rates


def yen(amount: int, pol: Any = None, hist: History | None = None, **req: Any) -> Decision:
    return decide(pol or DEFAULT_POLICY, request([line(price=amount)], currency="JPY", **req), hist or History(), ASKED)


def test_a_few_thousand_yen_is_approved_automatically_under_the_default_policy() -> None:
    d = yen(4_800)
    assert (d.action, d.amount) == ("approve", 4_800)
    assert [r.rule for r in d.rules] == ["amount.auto_approve"]


def test_the_default_still_reviews_large_yen_refunds_and_dollar_ones_as_before() -> None:
    assert yen(75_000).action == "approve"  # met exactly: only *above* it counts
    assert yen(75_001).action == "review"
    usd = DEFAULT_POLICY.sections.amounts.review_above
    assert usd is not None
    assert (usd.minor("USD"), usd.minor("EUR"), usd.minor("GBP")) == (50_000, 50_000, 50_000)
    assert (usd.minor("JPY"), usd.minor("KRW"), usd.minor("VND")) == (75_000, 700_000, 12_500_000)


def test_the_merchants_rate_table_converts_bare_amounts() -> None:
    pol = policy(currencies={"rates": {"JPY": 155}}, amounts={"review_above": 500})
    assert yen(77_500, pol).action == "approve"
    assert yen(77_501, pol).action == "review"


def test_a_per_currency_amount_wins_over_every_conversion() -> None:
    pol = policy(currencies={"rates": {"JPY": 155}}, amounts={"review_above": {"default": 500, "JPY": 20_000}})
    assert yen(20_001, pol).action == "review"
    assert yen(20_000, pol).action == "approve"


def test_a_yen_based_policy_converts_the_other_way() -> None:
    pol = policy(currencies={"base": "JPY", "rates": {"USD": 0.0065}}, amounts={"review_above": 80_000})
    threshold = pol.sections.amounts.review_above
    assert threshold is not None
    assert threshold.minor("JPY") == 80_000
    assert threshold.minor("USD") == 52_000  # 520.00 USD by the merchant's rate
    assert threshold.minor("EUR") == 53_333  # no rate: the built-in magnitudes, 80 000 / 150
    assert threshold.minor("KRW") == 746_667


def test_builtin_off_is_one_to_one_as_before() -> None:
    pol = policy(currencies={"builtin": False}, amounts={"review_above": 500})
    assert yen(501, pol).action == "review"


def test_fees_and_caps_are_converted_too() -> None:
    pol = policy(
        fees=[{"name": "handling", "fixed": 2.5}],
        amounts={"max_per_refund": 100, "cap_effect": "reduce", "customer_cap": {"amount": 200, "effect": "review"}},
    )
    d = yen(10_000, pol)
    assert (d.action, d.amount) == ("approve_partial", 9_625)  # ¥375 handling fee, under the ¥15 000 cap
    capped = yen(20_000, pol)
    assert capped.amount == 15_000  # the ¥15 000 cap, reduced
    earlier = history(prior(3, amount=25_000, currency="JPY"))
    assert yen(9_000, pol, earlier).action == "review"  # ¥25 000 + ¥8 625 is over the ¥30 000 customer cap


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"rates": {"YEN": 150}}, "currencies.rates.YEN: 'YEN' is not an ISO 4217 currency code"),
        ({"rates": {"JPY": 0}}, "currencies.rates.JPY"),
        ({"base": "dollars"}, "currencies.base"),
        ({"rate": {"JPY": 150}}, "currencies.rate"),
    ],
)
def test_a_bad_currency_table_is_refused_by_name(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(PolicyError, match=problem.replace(".", r"\.")):
        policy(currencies=section)


def test_the_built_in_magnitudes_are_small_unit_currencies_only() -> None:
    assert all(value > 10 for value in SMALL_UNITS.values())
    assert not {"USD", "EUR", "GBP", "CHF", "CAD", "AUD", "KWD", "BHD"} & set(SMALL_UNITS)
    assert Rates().factor("KWD") == Decimal(1)


def test_policy_check_shows_the_effective_threshold_per_currency(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('version = "x"\n[amounts]\nmax_per_refund = { default = 2000, EUR = 1800 }\n')
    result = CliRunner().invoke(policy_group, ["check", str(file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("effective money thresholds per currency:")
    per_currency = {line.strip().split(":")[0]: line.strip() for line in lines[at + 1 :]}
    assert per_currency["JPY"] == "JPY: amounts.review_above 75000, amounts.max_per_refund 300000"
    assert per_currency["EUR"] == "EUR: amounts.review_above 500.00, amounts.max_per_refund 1800.00"
    assert per_currency["other currencies"] == "other currencies: amounts.review_above 500, amounts.max_per_refund 2000"
    assert "converted for small-unit currencies" in result.output
