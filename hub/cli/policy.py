"""``refund-hub policy …``: ``check`` a policy file (no database), ``explain`` a stored decision and
``simulate`` a candidate policy over the decisions the ledger holds."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from hub.cli.context import config_of, hub_of
from hub.errors import HubError
from hub.ledger import views
from hub.ledger.history import decided_since
from hub.ledger.unit import open_database, read
from hub.policy.describe_currencies import currency_lines
from hub.policy.errors import PolicyError
from hub.policy.loader import load_policy

EXIT_INVALID = 2
SINCE = re.compile(r"^(\d+)([dhw])$")


def parse_since(text: str) -> timedelta:
    match = SINCE.match(text.strip())
    if not match:
        raise click.BadParameter("use a number and d, h or w, e.g. 90d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]


@click.group("policy")
def policy_group() -> None:
    """Check, explain and simulate refund policies."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.pass_context
def check(ctx: click.Context, file: str) -> None:
    """Validate FILE (TOML, or YAML when PyYAML is installed) and print its rules in plain words."""
    try:
        policy = load_policy(file)
    except PolicyError as exc:
        click.echo(f"invalid policy: {exc}", err=True)
        if exc.pointer is not None:  # a CEL rule: the line of its expression, a caret at the problem
            line, column = exc.pointer
            click.echo(f"    {line}\n    {' ' * column}^", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{file}: valid")
    for line in policy.describe():
        click.echo(f"  - {line}")
    per_currency = currency_lines(policy)
    if per_currency:
        click.echo("effective money thresholds per currency:")
        for line in per_currency:
            click.echo(f"  {line}")
    _store_warnings(ctx, policy)


def _store_warnings(ctx: click.Context, policy: Any) -> None:
    """Per configured store, the rules whose input its platform cannot supply (no configuration
    readable: a check of the file alone, nothing to warn about)."""
    from hub.policy.inputs import store_warnings
    from hub.runtime.config import load_config

    try:
        config = load_config((ctx.obj or {}).get("config_path"))
    except (HubError, OSError):
        return
    stores = [(sid, s.connector, s.settings) for sid, s in config.stores.items() if s.enabled]
    for line in store_warnings(policy, stores):
        click.echo(f"warning: {line}", err=True)


@policy_group.command("explain")
@click.argument("refund_id")
@click.pass_context
def explain(ctx: click.Context, refund_id: str) -> None:
    """Why a refund was decided as it was: rules fired, explanation, policy version, trail."""
    from hub.policy import Decision

    hub = hub_of(ctx)
    with read(hub.engine) as conn:
        found = views.refund_with_trail(conn, refund_id)
    if found is None:
        raise click.ClickException(f"no refund {refund_id}")
    row, trail = found
    click.echo(f"refund {row.id}: {row.state}, {row.amount} {row.currency} (order {row.order_id}, {row.store_id})")
    if row.decision and "decision" in row.decision:
        decision = Decision.from_dict(row.decision["decision"])
        click.echo(f"decision: {decision.action} {decision.amount} under policy {decision.policy_version}")
        for hit in decision.rules:
            click.echo(f"  - {hit.rule} [{hit.effect}] {hit.detail}")
        click.echo(f"the policy's explanation: {decision.explanation}")
        for key, value in row.decision.items():
            if key != "decision":
                click.echo(f"note: {key}: {value}")
    else:
        click.echo("no policy decision (a recorded refund, or not decided yet)")
    told = [e for e in trail if e.action == "customer_notified"]
    for entry in told:  # only what actually went out: a notice not sent is no "told"
        click.echo(
            f"customer was told ({entry.detail.get('channel')}, {entry.detail.get('step')}): "
            f"{entry.detail.get('subject') or entry.detail.get('reference')}"
        )
    if not told:
        click.echo("customer was told: nothing yet (no notice went out)")
    click.echo("audit trail:")
    for entry in trail:
        click.echo(f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.actor:12s} {entry.action} {entry.detail}")


@policy_group.command("simulate")
@click.argument("policy_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--since", "since_text", default="90d", show_default=True, help="how far back, e.g. 90d, 12w")
@click.option(
    "--processes",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="worker processes for the replay (0: one per core)",
)
@click.pass_context
def simulate_cmd(ctx: click.Context, policy_file: str, since_text: str, processes: int) -> None:
    """Replay stored decisions under a candidate policy and show what would change."""
    from rich.progress import Progress

    from hub.policy import simulate
    from hub.policy.report import print_report

    candidate = load_policy(policy_file)
    engine = open_database(config_of(ctx).hub.db_url)
    since = datetime.now(UTC) - parse_since(since_text)
    with read(engine) as conn:
        records = list(decided_since(conn, since, candidate.history_lookback_days))
    with Progress(transient=True) as progress:
        task = progress.add_task("replaying decisions", total=len(records))
        report = simulate(
            candidate,
            records,
            progress=lambda n: progress.update(task, completed=n),
            processes=processes or os.cpu_count() or 1,
        )
    print_report(report)
