"""``refund-hub policy …`` commands that need no database; the hub CLI adds ``explain``/``simulate``
to ``policy_group`` (``policy_group.add_command(...)``)."""

from __future__ import annotations

import sys

import click

from hub.policy.errors import PolicyError
from hub.policy.loader import load_policy

EXIT_INVALID = 2


@click.group("policy")
def policy_group() -> None:
    """Check, explain and simulate refund policies."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def check(file: str) -> None:
    """Validate FILE (TOML, or YAML when PyYAML is installed) and print its rules in plain words."""
    try:
        policy = load_policy(file)
    except PolicyError as exc:
        click.echo(f"invalid policy: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"{file}: valid")
    for line in policy.describe():
        click.echo(f"  - {line}")
