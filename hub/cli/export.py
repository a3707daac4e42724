"""``refund-hub export refunds``: the refunds a filter selects, as the CSV the API streams
(``hub.ledger.exports``), written to standard output a page at a time; and ``export monthly``,
the janitor's monthly file per store, on demand."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from hub.cli.audit import when
from hub.cli.context import hub_of
from hub.ledger import exports
from hub.ledger.people import ALL_STORES
from hub.ledger.states import RECORDED, TRANSITIONS


@click.group("export")
def export_group() -> None:
    """Refunds as CSV: any filter to standard output, or a store's month to a file."""


@export_group.command("refunds")
@click.option("--store", "store_id", default=None, help="one store (default: every store)")
@click.option("--connector", default=None, help="one platform (shopify, woocommerce, magento, …)")
@click.option("--since", "since_text", default=None, help="30d, 12h or an ISO date (default: the beginning)")
@click.option("--until", "until_text", default=None, help="30d, 12h or an ISO date (default: now)")
@click.option("--state", type=click.Choice(sorted({*TRANSITIONS, RECORDED})), default=None)
@click.option("--reason", default=None, help="a normalized reason code, e.g. damaged")
@click.option("--route", default=None, help="gateway:<account>, platform or none")
@click.option("--currency", default=None, help="ISO 4217 code")
@click.pass_context
def export_refunds(
    ctx: click.Context,
    store_id: str | None,
    connector: str | None,
    since_text: str | None,
    until_text: str | None,
    state: str | None,
    reason: str | None,
    route: str | None,
    currency: str | None,
) -> None:
    """Write the refunds (one row per refunded line) as CSV to standard output."""
    hub = hub_of(ctx)
    now = datetime.now(UTC)
    wanted = exports.RefundFilter(
        store_id=store_id,
        connector=connector,
        state=state,
        reason=reason,
        route=route,
        currency=currency.upper() if currency else None,
        created_from=when(since_text, now) if since_text else None,
        created_before=when(until_text, now) if until_text else None,
    )
    for chunk in exports.csv_chunks(exports.refunds_matching(hub.engine, ALL_STORES, wanted)):
        sys.stdout.write(chunk)
    sys.stdout.flush()


@export_group.command("monthly")
@click.option("--period", default=None, help="YYYY-MM (default: last month)")
@click.pass_context
def export_monthly(ctx: click.Context, period: str | None) -> None:
    """Write every store's export file for a month (kept if it exists) and print where."""
    from hub.reconcile.duties import export_month

    hub = hub_of(ctx)
    chosen = period or exports.previous_month(datetime.now(UTC))
    try:
        exports.month_bounds(chosen)
    except ValueError:
        raise click.BadParameter(f"{chosen!r}: use YYYY-MM, e.g. 2026-11", param_hint="--period") from None
    for made in export_month(hub, chosen):
        click.echo(f"{made.connector}/{made.store_id} {made.period}: {made.rows} rows, {made.path}")
    sys.stdout.flush()
