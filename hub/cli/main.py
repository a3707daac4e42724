"""The ``refund-hub`` command: init, serve, worker, sandbox, demo, schema, replay, migrate, policy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hub.cli.alternatives import take_alternative_command
from hub.cli.audit import audit_group
from hub.cli.context import config_of, hub_of
from hub.cli.export import export_group
from hub.cli.policy import policy_group
from hub.cli.reconcile import backfill_command, reconcile_command
from hub.cli.users import user_group
from hub.runtime.config import load_config


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="REFUND_HUB_CONFIG",
    type=click.Path(dir_okay=False),
    help="refund-hub.toml (default: ./refund-hub.toml)",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Refund Hub: platform webhooks in, policy-checked refunds out, an audited ledger between."""
    ctx.obj = {"config_path": config_path}


@main.command()
@click.option("--path", default=".", type=click.Path(file_okay=False), help="folder for refund-hub.toml")
@click.option("--force", is_flag=True, help="overwrite an existing refund-hub.toml")
def init(path: str, force: bool) -> None:
    """Write a starter refund-hub.toml (simulated Shopify store and gateways), a local key and the database."""
    from hub.cli.starter import write_starter

    target = Path(path) / "refund-hub.toml"
    if target.exists() and not force:
        click.echo(f"{target} exists; keeping it (use --force to overwrite)")
    else:
        write_starter(target)
        click.echo(f"wrote {target}")
    from hub.ledger.unit import open_database
    from hub.runtime.bootstrap import write_key_file

    config = load_config(target)
    key_file = write_key_file(config.hub.instance_path)
    open_database(config.hub.db_url, migrate=True)
    click.echo(
        f"database ready: {config.hub.db_url}\nlocal secret key: {key_file} (set REFUND_HUB_SECRET_KEYS in production)"
    )


@main.command()
def schema() -> None:
    """Print the normalized refund schema as JSON Schema."""
    from hub.models.json_schema import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.option("--bind", default=None, help="host:port (default: from hub.public_url)")
@click.option("--workers", type=int, default=None, help="web worker processes")
@click.option("--worker-class", type=click.Choice(["sync", "gthread"]), default=None)
@click.option("--threads", type=int, default=None, help="worker threads for refunds")
@click.pass_context
def serve(
    ctx: click.Context, bind: str | None, workers: int | None, worker_class: str | None, threads: int | None
) -> None:
    """Web, worker and janitor together (and the sandbox simulators when configured)."""
    from hub.cli.serve import serve as run

    run(config_of(ctx), bind=bind, workers=workers, worker_class=worker_class, threads=threads)


@main.command()
@click.option("--threads", type=int, default=None, help="worker threads (default: hub.worker_threads)")
@click.option("--no-janitor", is_flag=True, help="do not run the periodic janitor in this process")
@click.pass_context
def worker(ctx: click.Context, threads: int | None, no_janitor: bool) -> None:
    """Workers alone (scale-out: run several, on many machines, over PostgreSQL and Redis)."""
    from hub.cli.serve import run_worker

    run_worker(config_of(ctx), threads=threads, janitor=not no_janitor)


@main.command("ingest-service")
@click.pass_context
def ingest_service(ctx: click.Context) -> None:
    """The process that commits the deliveries of all web workers together (serve starts it)."""
    from hub.cli.serve import run_ingest_service

    run_ingest_service(config_of(ctx))


@main.command()
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Start the configured simulators (platforms and gateways) and wait."""
    from hub.cli.serve import run_sandbox

    run_sandbox(config_of(ctx))


@main.command()
@click.option("--url", default=None, help="the running hub (default: hub.public_url)")
@click.option("--timeout", default=30.0, help="seconds to wait for refunds to settle")
@click.pass_context
def demo(ctx: click.Context, url: str | None, timeout: float) -> None:
    """Fire signed sample deliveries at a running hub and print what happened to each."""
    from hub.sandbox.demo.run import run_demo

    sys.exit(run_demo(config_of(ctx), url=url, timeout=timeout))


@main.command()
@click.argument("delivery_id")
@click.pass_context
def replay(ctx: click.Context, delivery_id: str) -> None:
    """Queue a stored delivery (e.g. a dead letter) again."""
    from hub.pipeline.deliveries import replay as do_replay

    if not do_replay(hub_of(ctx), delivery_id):
        raise click.ClickException(f"delivery {delivery_id} is unknown or already queued")
    click.echo(f"delivery {delivery_id} queued again")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database to the newest schema."""
    from hub.ledger.unit import open_database

    config = config_of(ctx)
    open_database(config.hub.db_url, migrate=True)
    click.echo("database is up to date")


@main.command("rotate-keys")
@click.pass_context
def rotate_keys(ctx: click.Context) -> None:
    """Re-encrypt stored credentials under the first key of REFUND_HUB_SECRET_KEYS."""
    from hub.ledger.stores import rotate_credentials

    hub = hub_of(ctx)
    click.echo(f"re-encrypted {rotate_credentials(hub.engine, hub.box)} store credential sets")


@main.command()
@click.argument("refund_id")
@click.option("--retry", "action", flag_value="retry", help="try each failed part again (a new key per part)")
@click.option("--accept", "action", flag_value="accept", help="accept what moved; the failed parts stay failed")
@click.pass_context
def parts(ctx: click.Context, refund_id: str, action: str | None) -> None:
    """Show a refund's parts (one per tender); settle a partly failed one with --retry or --accept."""
    from hub.errors import IllegalTransition, OverRefund, PaymentBusy
    from hub.pipeline.settle import accept_partial, parts_summary, retry_failed_parts

    hub = hub_of(ctx)
    try:
        if action == "retry":
            click.echo(f"retrying as {', '.join(retry_failed_parts(hub, refund_id, 'cli'))}")
        elif action == "accept":
            click.echo(f"accepted: refund {refund_id} is {accept_partial(hub, refund_id, 'cli')}")
        click.echo(json.dumps(parts_summary(hub, refund_id), indent=2, default=str))
    except (IllegalTransition, OverRefund, PaymentBusy) as exc:
        raise click.ClickException(str(exc)) from exc


main.add_command(policy_group)
main.add_command(user_group)
main.add_command(audit_group)
main.add_command(export_group)
main.add_command(reconcile_command)
main.add_command(backfill_command)
main.add_command(take_alternative_command)
