"""``refund-hub reconcile``, ``backfill`` and ``export`` against a hub over the simulators, and the
janitor's duties: scheduled only, never in an unpaced sweep."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import tomli_w
from click.testing import CliRunner, Result

from hub.cli.main import main
from hub.ledger import reconcile as books
from hub.ledger import states
from hub.ledger.unit import read
from hub.reconcile.duties import monthly_export_duty, reconcile_duty
from hub.work.janitor import perform, slow_duties, sweep
from tests.gateways.conftest import STORE, GatewayWorld


def _config(w: GatewayWorld, tmp_path: Path) -> Path:
    config = w.hub.config
    data = {
        "hub": {
            "instance_path": str(config.hub.instance_path),
            "secret_keys": config.hub.secret_keys,
            "database_url": config.hub.db_url,
        },  # fmt: skip
        "connectors": config.connectors,
        "gateways": config.gateways,
        "stores": {k: v.model_dump(exclude_none=True) for k, v in config.stores.items()},
        "policies": config.policies,
    }
    path = tmp_path / "cli.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def _cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def _paid(w: GatewayWorld) -> str:
    payment = w.order("9001", 8000)
    w.ask("9001", 1000, request_id="rq-cli")
    w.settle(until=w.in_state("rq-cli", states.WRITTEN_BACK))
    return payment


def test_reconcile_prints_the_drift_and_exits_by_what_is_left(world: GatewayWorld, tmp_path: Path) -> None:
    w = world
    payment = _paid(w)
    config = _config(w, tmp_path)
    dashboard = w.sim.dashboard_refund(payment, 700)
    done = _cli(config, "reconcile", "--store", STORE, "--since", "30d")
    assert done.exit_code == 0, done.output  # the only drift was repaired
    assert "unknown_at_ledger (gateway:stripe-main) refund rf_" in done.output
    assert f"payment {payment} outside {dashboard}" in done.output
    assert "[imported]" in done.output

    w.platform.add_refund_record("9001", 250)  # a store record nobody told the hub about
    left = _cli(config, "reconcile", "--store", STORE, "--csv")
    assert left.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(left.stdout)))
    assert [(r["kind"], r["outside_amount"], r["resolution"]) for r in rows] == [
        (books.UNKNOWN_PLATFORM_RECORD, "250", "")
    ]
    assert "backfill" in rows[0]["action"]
    unknown = _cli(config, "reconcile", "--store", "no-such-store")
    assert unknown.exit_code == 1
    assert "no enabled store" in unknown.output


def test_backfill_and_export_from_the_command_line(world: GatewayWorld, tmp_path: Path) -> None:
    w = world
    _paid(w)
    config = _config(w, tmp_path)
    w.platform.add_refund_record("9001", 400)
    first = _cli(config, "backfill", "--since", "180d", "--store", STORE)
    assert first.exit_code == 0
    assert '"platform_imported": 1' in first.output
    assert '"platform_imported"' not in _cli(config, "backfill", "--since", "180d").output  # every store, again

    exported = _cli(config, "export", "refunds", "--store", STORE, "--since", "1d")
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert sorted((r["kind"], r["requested"]) for r in table) == [("recorded", "400"), ("requested", "1000")]
    assert _cli(config, "export", "refunds", "--state", "denied").stdout_bytes.count(b"\r\n") == 1  # the header alone


def test_the_duties_run_on_their_schedule_only(world: GatewayWorld) -> None:
    w = world
    payment = _paid(w)
    w.sim.dashboard_refund(payment, 300)
    sweep(w.hub.hub)  # unpaced, as tests and start-up sweep: reconcile and exports stay out of it
    with read(w.hub.hub.engine) as conn:
        assert books.runs(conn) == []
    [duty] = [d for d in slow_duties(w.hub.hub) if d.name == "reconcile"]
    assert duty.every == 24 * 3600
    assert duty.scheduled_only
    counts = perform(w.hub.hub, duty, datetime.now(UTC), paced=True)
    assert counts == {"reconciled": 1, "drift": 1}
    assert perform(w.hub.hub, duty, datetime.now(UTC), paced=True) == {"skipped": 1}  # not before its interval
    assert reconcile_duty(w.hub.hub, datetime.now(UTC)) == {"reconciled": 1, "drift": 0}  # repaired: none left

    made = monthly_export_duty(w.hub.hub, datetime(2027, 1, 3, tzinfo=UTC))
    assert made == {"monthly_exports": 1}
    folder = w.hub.config.hub.instance_path.resolve() / "exports" / "sandbox" / STORE
    assert [p.name for p in folder.iterdir()] == ["refunds-2026-12.csv"]
