"""``refund-hub take-alternative <refund id>``: a reviewer takes the alternative on offer for the
customer (they said yes on the phone, say); the worker then issues it on the platform once."""

from __future__ import annotations

import click

from hub.cli.context import hub_of
from hub.pipeline.notice_text import money


@click.command("take-alternative")
@click.argument("refund_id")
@click.option("--by", "actor", required=True, help="who took it for the customer (the audit names them)")
@click.pass_context
def take_alternative_command(ctx: click.Context, refund_id: str, actor: str) -> None:
    """Take the store credit offered instead of a refund; the same credit however often it is run."""
    from hub.pipeline.alternatives import CannotAccept, accept

    hub = hub_of(ctx)
    try:
        credit = accept(hub, refund_id, actor)
    except LookupError:
        raise click.ClickException(f"no refund {refund_id}") from None
    except CannotAccept as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{credit.kind.replace('_', ' ')} of {money(credit.amount, credit.currency)}: {credit.state}")
