"""Simulation counts transitions and money deltas; the report renders; ``policy check`` exits 2."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from policy_factory import ASKED, DELIVERED, line, policy, prior, request
from rich.console import Console

from hub.cli.policy import policy_group
from hub.policy import DEFAULT_POLICY, History, SimulationRecord, decide, simulate
from hub.policy.report import render


def records() -> list[SimulationRecord]:
    out = []
    cases = [
        (request(order_id="a"), History()),  # approve → partial (fee)
        (request([line("1", 90_000)], order_id="b"), History()),  # review → review, proposes less
        (request(order_id="c", asked=DELIVERED + 45 * timedelta(days=1)), History()),  # deny → offer
        (request(order_id="d", currency="EUR"), History(prior_refunds=(prior(1), prior(2)))),  # approve → review
    ]
    for i, (built, hist) in enumerate(cases):
        out.append(
            SimulationRecord(
                f"ref-{i}", built, hist, built.requested_at, decide(DEFAULT_POLICY, built, hist, built.requested_at)
            )
        )
    return out


CANDIDATE = {
    "fees": [{"name": "restocking", "percent": 10}],
    "alternatives": {"offer": "store_credit"},
    "abuse": {"velocity": [{"max": 2, "days": 30}]},
}


def test_simulate_counts_what_would_change() -> None:
    seen: list[int] = []
    report = simulate(policy(**CANDIDATE), records(), seen.append)
    assert report.total == 4
    assert report.changed == 4  # the review stays a review but would propose 810.00 instead of 900.00
    assert set(report.transitions) == {
        ("approve", "approve_partial", 1),
        ("review", "review", 1),
        ("deny", "offer_alternative", 1),
        ("approve", "review", 1),
    }
    assert dict(report.money_delta) == {"USD": -200, "EUR": -2_000}
    assert dict(report.money_less) == {"USD": -200, "EUR": -2_000}
    assert report.money_more == ()
    assert report.changed_ids == ("ref-0", "ref-1", "ref-2", "ref-3")
    assert seen == [4]
    assert report.old_versions == ((DEFAULT_POLICY.version, 4),)
    assert report.to_dict()["money_delta"] == {"EUR": -2_000, "USD": -200}


def test_same_policy_changes_nothing_and_sample_is_bounded() -> None:
    report = simulate(DEFAULT_POLICY, records())
    assert report.changed == 0
    assert report.money_delta == ()
    bounded = simulate(policy(**CANDIDATE), records() * 3, sample=2)
    assert bounded.changed == 12
    assert len(bounded.changed_ids) == 2


def test_progress_is_reported_in_steps() -> None:
    built = request()
    record = SimulationRecord("r", built, History(), ASKED, decide(DEFAULT_POLICY, built, History(), ASKED))
    seen: list[int] = []
    simulate(DEFAULT_POLICY, [record] * 2_500, seen.append)
    assert seen == [1_000, 2_000, 2_500]


def test_report_renders_with_rich() -> None:
    console = Console(record=True, width=120)
    console.print(render(simulate(policy(**CANDIDATE), records())))
    text = console.export_text()
    assert "4 of 4 decisions would change" in text
    assert "approve_partial" in text
    assert "-2.00" in text
    assert "-20.00" in text
    assert "ref-0, ref-1, ref-2, ref-3" in text


def test_check_command(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('version = "1"\n[amounts]\nreview_above = 100\n')
    result = CliRunner().invoke(policy_group, ["check", str(good)])
    assert result.exit_code == 0
    assert "Refunds up to 100" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[windows.digital]\ndays = -3\n")
    result = CliRunner().invoke(policy_group, ["check", str(bad)])
    assert result.exit_code == 2
    assert "windows.digital.days: must be >= 0" in result.output
    assert CliRunner().invoke(policy_group, ["check", str(tmp_path / "nope.toml")]).exit_code == 2
