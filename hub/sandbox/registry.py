"""Which simulators ``refund-hub sandbox``/``serve`` can start: the ``refund_hub.simulators`` entry points.

A plugin registers its simulator under the name of its connector or gateway type (``shopify``,
``stripe``...; the sandbox's own are ``sandbox-platform`` and ``sandbox-gateway``). The entry
point names a factory ``(config, port, hub_url) -> Simulator`` in the plugin's ``sim`` package
that builds the simulator from the configuration, so its secrets and ports agree with the stores
and gateway accounts that point at it. ``[sandbox.ports]`` says which simulators start, and where.
Discovery is ``hub.runtime.plugins``'s, as for connectors and gateways: a name two packages
claim, or a factory that fails to import, is a loud error naming the packages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hub.errors import ConfigError
from hub.runtime import plugins
from hub.runtime.config import Config
from hub.sandbox.base import Simulator

SIMULATORS = "refund_hub.simulators"

Factory = Callable[[Config, int, str], Simulator]


class Factories(Mapping[str, Factory]):
    """The installed simulator factories by name, each imported only when asked for."""

    def __getitem__(self, name: str) -> Factory:
        if name not in self:
            raise KeyError(name)
        factory: Factory = plugins.load(SIMULATORS, [name])[name]
        return factory

    def __contains__(self, name: object) -> bool:
        return name in plugins.available(SIMULATORS)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(plugins.available(SIMULATORS)))

    def __len__(self) -> int:
        return len(plugins.available(SIMULATORS))


FACTORIES = Factories()


def build_simulators(config: Config) -> list[Simulator]:
    hub_url = config.hub.public_url.rstrip("/")
    ports: dict[str, Any] = dict(config.sandbox.get("ports", {}))
    unknown = set(ports) - set(FACTORIES)
    if unknown:
        raise ConfigError("sandbox.ports", f"unknown simulators {sorted(unknown)}; known: {sorted(FACTORIES)}")
    factories = plugins.load(SIMULATORS, ports)
    return [factories[name](config, int(port), hub_url) for name, port in ports.items()]
