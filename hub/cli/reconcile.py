"""``refund-hub reconcile`` (a store's ledger against its gateways and platform, printed or as
CSV, stored as a report) and ``refund-hub backfill`` (past refunds imported as recorded)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from hub.cli.audit import when
from hub.cli.context import hub_of
from hub.contracts import ListingFailed
from hub.errors import HubError
from hub.reconcile.backfill import backfill
from hub.reconcile.duties import every_store
from hub.reconcile.report import drift_csv, drift_lines
from hub.reconcile.run import reconcile


@click.command("reconcile")
@click.option("--store", "store_id", required=True, help="the store to compare")
@click.option("--connector", default=None, help="its platform, when two platforms have a store of that id")
@click.option("--since", "since_text", default="30d", show_default=True, help="30d, 12h or an ISO date")
@click.option("--csv", "as_csv", is_flag=True, help="the drift items as CSV on standard output")
@click.pass_context
def reconcile_command(ctx: click.Context, store_id: str, connector: str | None, since_text: str, as_csv: bool) -> None:
    """Compare the ledger with the gateways' and the platform's refunds; repair the safe drift once.

    Exit status 1 when drift is left for a person."""
    hub = hub_of(ctx)
    since = when(since_text, datetime.now(UTC))
    try:
        report = reconcile(hub, store_id, since, connector=connector)
    except (HubError, ListingFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    for text in drift_csv(report.drifts) if as_csv else drift_lines(report.drifts):
        click.echo(text, nl=not as_csv)
    out = sys.stderr if as_csv else sys.stdout
    print(f"report {report.run_id}: {json.dumps(dict(sorted(report.counts.items())))}", file=out)
    for error in report.errors:
        print(f"not compared: {error}", file=out)
    sys.exit(1 if any(d.resolution is None for d in report.drifts) else 0)


@click.command("backfill")
@click.option("--since", "since_text", default="180d", show_default=True, help="180d or an ISO date")
@click.option("--store", "store_id", default=None, help="one store (default: every store)")
@click.option("--connector", default=None, help="its platform, when two platforms have a store of that id")
@click.pass_context
def backfill_command(ctx: click.Context, since_text: str, store_id: str | None, connector: str | None) -> None:
    """Import past refunds from each platform and gateway as recorded (run twice: the same ledger)."""
    hub = hub_of(ctx)
    since = when(since_text, datetime.now(UTC))
    targets = [(connector, store_id)] if store_id else every_store(hub)
    for name, store in targets:
        try:
            counts = backfill(hub, store, since, connector=name)
        except (HubError, ListingFailed) as exc:
            raise click.ClickException(f"{store}: {exc}") from exc
        click.echo(f"{name or ''}/{store}: {json.dumps(dict(sorted(counts.items())))}".lstrip("/"))
