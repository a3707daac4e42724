"""``refund-hub audit report`` prints the audit report of any period as JSON, per store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hub.cli.main import main
from hub.ledger import audit, states
from hub.ledger import refunds as ledger
from hub.runtime.bootstrap import bootstrap
from hub.runtime.config import load_config
from hub.runtime.crypto import SecretBox
from tests.ledger.conftest import request


def test_report_prints_each_stores_findings(tmp_path: Path) -> None:
    config = tmp_path / "refund-hub.toml"
    config.write_text(
        f'[hub]\ninstance_path = "{tmp_path / "instance"}"\nsecret_keys = ["{SecretBox.generate_key()}"]\n'
        f'database_url = "sqlite:///{tmp_path / "hub.db"}"\n[audit]\napproval_threshold = 500\n'
    )
    hub = bootstrap(load_config(config, env={}))
    with hub.engine.begin() as conn:
        refund_id = ledger.open_refund(conn, request("rq-1"), kind="requested", state=states.REVIEW)[0]
        audit.write(conn, "policy", "decided", refund_id=refund_id, verdict="review", state=states.REVIEW, amount=1000)
        audit.write(conn, "user:ann@example.com", "reviewed", refund_id=refund_id, state=states.APPROVED, amount=1000)
    result = CliRunner().invoke(main, ["--config", str(config), "audit", "report", "--since", "1d"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report) == ["s1"]
    assert report["s1"]["counts"] == {
        "outside_policy": 1,
        "overrides": 0,
        "approvals_above_threshold": 1,
        "reviews_over_sla": 0,
    }
    assert report["s1"]["outside_policy"][0]["why"] == "approved by user:ann@example.com; the policy said review"
    bad = CliRunner().invoke(main, ["--config", str(config), "audit", "report", "--since", "last week"])
    assert bad.exit_code == 2
    assert "use 30d, 12h or an ISO date" in bad.output
