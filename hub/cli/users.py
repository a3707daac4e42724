"""``refund-hub user …``: the first owner, and people for scripts — add, grant, revoke, token, totp, list."""

from __future__ import annotations

import click

from hub.cli.context import hub_of
from hub.ledger import people
from hub.ledger.unit import read
from hub.people import roles
from hub.people.secrets import new_totp_secret, totp_uri


@click.group("user")
def user_group() -> None:
    """People who log in to the console and hold API tokens."""


@user_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="shown in the console; default: the e-mail's local part")
@click.option("--role", type=click.Choice(roles.ROLES), default="owner", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="REFUND_HUB_NEW_PASSWORD")
@click.option("--all-stores", is_flag=True, help="grant every store of every connector (an owner usually)")
@click.pass_context
def add(ctx: click.Context, email: str, name: str, role: str, password: str, all_stores: bool) -> None:
    """Add a person (the password may come from REFUND_HUB_NEW_PASSWORD for scripts)."""
    accounts = hub_of(ctx).accounts
    try:
        user = accounts.add_user(email, name or email.split("@")[0], role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if all_stores:
        accounts.grant(email, people.EVERY, people.EVERY)
    click.echo(f"added {user.email} ({user.role}){' with every store' if all_stores else ''}")


@user_group.command("grant")
@click.argument("email")
@click.argument("store", metavar="CONNECTOR:STORE")
@click.pass_context
def grant(ctx: click.Context, email: str, store: str) -> None:
    """Let EMAIL see and act on a store (``shopify:my-shop.myshopify.com``; ``*:*`` for every store)."""
    connector, store_id = _store(store)
    try:
        hub_of(ctx).accounts.grant(email, connector, store_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{email} may now act on {connector}:{store_id}")


@user_group.command("revoke")
@click.argument("email")
@click.argument("store", metavar="CONNECTOR:STORE")
@click.pass_context
def revoke(ctx: click.Context, email: str, store: str) -> None:
    """Take a store away from EMAIL."""
    connector, store_id = _store(store)
    try:
        removed = hub_of(ctx).accounts.revoke(email, connector, store_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {removed} grant(s)")


@user_group.command("token")
@click.argument("email")
@click.option("--name", default="api", show_default=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(sorted(roles.EVERY_SCOPE)),
    help="repeatable; default: the role's",
)
@click.pass_context
def token(ctx: click.Context, email: str, name: str, scopes: tuple[str, ...]) -> None:
    """Issue an API token for EMAIL (printed once: store it now)."""
    try:
        issued = hub_of(ctx).accounts.issue_token(email, name, scopes)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(issued)


@user_group.command("totp")
@click.argument("email")
@click.option("--off", is_flag=True, help="remove the second factor")
@click.pass_context
def totp(ctx: click.Context, email: str, off: bool) -> None:
    """Turn on a TOTP second factor for EMAIL and print the otpauth:// URI for an authenticator app."""
    secret = None if off else new_totp_secret()
    try:
        hub_of(ctx).accounts.set_totp(email, secret)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("second factor removed" if secret is None else totp_uri(secret, email))


@user_group.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """Everyone, with role and stores."""
    hub = hub_of(ctx)
    with read(hub.engine) as conn:
        for user in people.list_users(conn):
            scope = people.scope_of(conn, user.id)
            stores = "every store" if scope.everything else ", ".join(sorted(f"{c}:{s}" for c, s in scope.stores))
            state = "" if user.active else " (inactive)"
            click.echo(f"{user.email:32s} {user.role:9s} {stores or 'no stores'}{state}")


def _store(text: str) -> tuple[str, str]:
    connector, sep, store_id = text.partition(":")
    if not sep or not connector or not store_id:
        raise click.BadParameter("use CONNECTOR:STORE, e.g. shopify:my-shop.myshopify.com or *:*")
    return connector, store_id
