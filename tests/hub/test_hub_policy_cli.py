"""The policy tools that read the ledger: explain a stored decision, simulate a candidate."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hub.cli.main import main
from tests.hub.conftest import World


def _config_file(world: World, tmp_path: Path) -> str:
    path = tmp_path / "refund-hub.json"
    path.write_text(json.dumps(world.hub.config.model_dump(mode="json", exclude={"source"})))
    return str(path)


def test_explain_and_simulate_from_the_ledger(world: World, tmp_path: Path) -> None:
    for number, amount in (("5001", 900), ("5002", 90_000)):
        world.order(number, amount)
        world.platform.request_refund(number, amount, request_id=f"rq-{number}")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    small, big = sorted(world.hub.refunds(), key=lambda r: r.amount)
    assert (small.state, big.state) == ("written_back", "review")
    config = _config_file(world, tmp_path)
    runner = CliRunner()

    explained = runner.invoke(main, ["--config", config, "policy", "explain", big.id])
    assert explained.exit_code == 0, explained.output
    assert "decision: review" in explained.output
    # the sandbox platform has no channel to the customer and no e-mail is configured: nobody was told
    assert "the policy's explanation:" in explained.output
    assert "customer was told: nothing yet" in explained.output

    candidate = tmp_path / "generous.toml"
    candidate.write_text('version = "generous-1"\n[amounts]\nreview_above = 5000\n')
    simulated = runner.invoke(main, ["--config", config, "policy", "simulate", str(candidate), "--since", "1d"])
    assert simulated.exit_code == 0, simulated.output
    assert "review" in simulated.output
    assert "approve" in simulated.output

    checked = runner.invoke(main, ["policy", "check", str(candidate)])
    assert checked.exit_code == 0, checked.output
