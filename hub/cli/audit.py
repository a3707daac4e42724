"""``refund-hub audit …``: prove the trail is as written (``verify``), hand an auditor a signed
period of it (``export``, checked offline by ``verify-export``), the key to pin (``public-key``),
and the audit report for any period (``report``)."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from hub.cli.audit_export import public_key_text, signing_key, verify_export, write_export
from hub.cli.context import hub_of
from hub.ledger import audit
from hub.ledger.audit_chain import HUB_CHAIN
from hub.ledger.unit import read
from hub.outgoing.report import report as build_report

SPAN = re.compile(r"^(\d+)([dh])$")


def when(text: str, now: datetime) -> datetime:
    """``30d``/``12h`` before ``now``, or an ISO date or time (UTC unless it says otherwise)."""
    span = SPAN.match(text.strip())
    if span:
        amount, unit = int(span.group(1)), span.group(2)
        return now - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: use 30d, 12h or an ISO date such as 2026-11-01") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail: verify it, export it signed, report on it."""


@audit_group.command("verify")
@click.option("--store", default=None, help=f"one store's chain ({HUB_CHAIN!r}: the hub's own); default: every chain")
@click.pass_context
def verify(ctx: click.Context, store: str | None) -> None:
    """Check every entry's hash and link, and each chain's head; exit 1 on any problem."""
    hub = hub_of(ctx)
    with read(hub.engine) as conn:
        result = audit.verify(conn, store)
    for chain in result.chains:
        span = f"entries {chain.first_seq}..{chain.last_seq}" if chain.entries else "no entries"
        click.echo(f"{chain.chain}: {chain.entries} checked ({span}) — {'ok' if chain.ok else 'FAILED'}")
        for problem in chain.problems:
            click.echo(f"  - {problem}")
    if result.unchained:
        click.echo(
            f"{result.unchained} entries from before the chain (ids up to {result.unchained_last_id}) "
            "are not covered: the chain starts at the first entry after them"
        )
    for problem in result.problems:
        click.echo(f"  - {problem}")
    click.echo("audit trail verified" if result.ok else "audit trail FAILED verification")
    sys.exit(0 if result.ok else 1)


@audit_group.command("export")
@click.option("--store", required=True, help=f"the store whose chain to export ({HUB_CHAIN!r}: the hub's own)")
@click.option("--since", "since_text", default="30d", show_default=True, help="30d, 12h or an ISO date")
@click.option("--until", "until_text", default=None, help="default: now")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="folder to write")
@click.pass_context
def export(ctx: click.Context, store: str, since_text: str, until_text: str | None, out: str) -> None:
    """Write a signed export of one store's entries in the period (a contiguous run of its chain)."""
    hub = hub_of(ctx)
    now = datetime.now(UTC)
    since, until = when(since_text, now), when(until_text, now) if until_text else now
    key = signing_key(hub.box.keys)
    with read(hub.engine) as conn:
        run = audit.period(conn, store, since, until)
        head = audit.head(conn, store)
        about = {
            "store": store,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "exported_at": now.isoformat(),
            "head_seq": head[0] if head else None,
            "head_hash": head[1] if head else None,
        }
        entries = audit.entries(conn, store, *run) if run is not None else iter(())
        manifest = write_export(Path(out), entries, about, key)
    click.echo(f"exported {manifest['entries']} entries of {store} to {out}")
    click.echo(f"public key: {manifest['public_key']}")


@audit_group.command("verify-export")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--public-key", default=None, help="the key you pinned (refund-hub audit public-key); default: the export's own"
)
def verify_export_command(folder: str, public_key: str | None) -> None:
    """Check an export offline (no configuration, no database): signature, digest, every hash and link."""
    check = verify_export(Path(folder), public_key)
    manifest = check.manifest
    run = f"{manifest.get('first_seq')}..{manifest.get('last_seq')}"
    click.echo(
        f"{manifest.get('store')}: {manifest.get('entries')} entries ({run}) "
        f"from {manifest.get('since')} to {manifest.get('until')}"
    )
    if not check.pinned:
        click.echo("note: checked with the key the export names; pass --public-key to check it is the hub's")
    for problem in check.problems:
        click.echo(f"  - {problem}")
    click.echo("export verified" if check.ok else "export FAILED verification")
    sys.exit(0 if check.ok else 1)


@audit_group.command("public-key")
@click.pass_context
def public_key(ctx: click.Context) -> None:
    """The key audit exports are signed with (base64, then PEM), for an auditor to pin."""
    from hub.cli.audit_export import public_pem

    key = signing_key(hub_of(ctx).box.keys).public_key()
    click.echo(public_key_text(key))
    click.echo(public_pem(key).decode(), nl=False)


@audit_group.command("report")
@click.option("--since", "since_text", default="7d", show_default=True, help="30d, 12h or an ISO date")
@click.option("--until", "until_text", default=None, help="default: now")
@click.option("--store", default=None, help="one store (default: every store)")
@click.pass_context
def report(ctx: click.Context, since_text: str, until_text: str | None, store: str | None) -> None:
    """The audit report (outside policy, overrides by person, approvals above threshold, reviews
    over the SLA) as JSON, per store."""
    hub = hub_of(ctx)
    now = datetime.now(UTC)
    since, until = when(since_text, now), when(until_text, now) if until_text else now
    click.echo(json.dumps(build_report(hub, since, until, store), indent=2, sort_keys=True))
