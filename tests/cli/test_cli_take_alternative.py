"""A reviewer takes the offered store credit for the customer from the command line: issued by
the worker once, however often the command is run; a refund with nothing on offer is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hub.cli.main import main
from hub.ledger import credits, states
from hub.ledger.unit import read
from hub.policy import load_policy
from tests.hub.conftest import World, world  # noqa: F401 - fixture

OFFER = {
    "version": "offer-cli",
    "windows": {"default": {"days": 30, "start": "order"}},
    "alternatives": {"offer": "store_credit", "instead_of": ["window"]},
}


def _config(hub_world: World, tmp_path: Path) -> str:
    path = tmp_path / "refund-hub.json"
    data: dict[str, Any] = hub_world.hub.config.model_dump(mode="json", exclude={"source"})
    data["policies"]["default"] = OFFER
    path.write_text(json.dumps(data))
    return str(path)


def test_a_reviewer_takes_the_alternative_once(world: World, tmp_path: Path) -> None:  # noqa: F811
    world.hub.hub.policies["default"] = load_policy(OFFER)
    world.order("8801", 2000)
    long_ago = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    world.platform.orders["8801"]["created_at"] = world.platform.orders["8801"]["paid_at"] = long_ago
    world.platform.request_refund("8801", 2000, request_id="rq-8801")
    world.hub.settle(senders=[world.platform.sender])
    [refund] = world.hub.refunds()
    assert refund.state == states.OFFERED
    config, runner = _config(world, tmp_path), CliRunner()

    for _ in range(2):
        taken = runner.invoke(main, ["--config", config, "take-alternative", refund.id, "--by", "lee@shop.example"])
        assert taken.exit_code == 0, taken.output
        assert "store credit of 20.00 USD: issuing" in taken.output
    world.hub.settle(senders=[world.platform.sender])
    with read(world.hub.hub.engine) as conn:
        credit = credits.of_refund(conn, refund.id)
    assert credit is not None
    assert credit.accepted_by == "lee@shop.example"
    # the sandbox platform cannot issue credit: a person is asked, nothing is issued twice
    assert credit.state == credits.FAILED
    actions = [a.action for a in world.hub.audit(refund.id)]
    assert actions.count("alternative_accepted") == 1
    assert "credit_failed" in actions
    assert world.hub.refunds()[0].needs_person is True

    other = runner.invoke(main, ["--config", config, "take-alternative", "rf_nope", "--by", "lee"])
    assert other.exit_code != 0
    assert "no refund rf_nope" in other.output
