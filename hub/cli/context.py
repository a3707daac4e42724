"""What every command starts from: the configuration it was pointed at, and a wired hub."""

from __future__ import annotations

from typing import Any

import click

from hub.errors import ConfigError, HubError
from hub.runtime.bootstrap import Hub, bootstrap
from hub.runtime.config import Config, load_config


def config_of(ctx: click.Context) -> Config:
    try:
        return load_config(ctx.obj["config_path"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def hub_of(ctx: click.Context, **kwargs: Any) -> Hub:
    try:
        return bootstrap(config_of(ctx), **kwargs)
    except HubError as exc:
        raise click.ClickException(str(exc)) from exc
