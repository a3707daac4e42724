"""Find connector, gateway and usage-provider plugins through entry points; load only the configured ones.

Built-ins register exactly like third-party packages (setup.cfg). Installed is not enabled:
a plugin loads only when the configuration names it. A name two packages claim, or a name
nobody provides, is a loud error that names the packages involved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hub.errors import PluginError

CONNECTORS = "refund_hub.connectors"
GATEWAYS = "refund_hub.gateways"
USAGE = "refund_hub.usage"  # digital-goods usage (licence activations) a store's settings name


def _by_name(group: str) -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = defaultdict(list)
    for ep in entry_points(group=group):
        # the same distribution can be seen twice (editable installs); count packages once
        if all(_origin(ep) != _origin(other) for other in found[ep.name]):
            found[ep.name].append(ep)
    return found


def _origin(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name if dist else '?'}:{ep.value}"


def available(group: str) -> dict[str, str]:
    """Every installed plugin of the group: name -> 'distribution:module:attr'."""
    return {name: ", ".join(_origin(ep) for ep in eps) for name, eps in _by_name(group).items()}


def load(group: str, names: Iterable[str]) -> dict[str, Any]:
    """Load the classes of the named plugins; every failure names what was found."""
    found = _by_name(group)
    loaded: dict[str, Any] = {}
    for name in names:
        candidates = found.get(name, [])
        if not candidates:
            known = ", ".join(sorted(found)) or "none"
            raise PluginError(f"no {group} plugin named {name!r} is installed (installed: {known})")
        if len(candidates) > 1:
            raise PluginError(
                f"{group} plugin name {name!r} is claimed by several packages: "
                + "; ".join(_origin(ep) for ep in candidates)
            )
        try:
            plugin = candidates[0].load()
        except Exception as exc:  # a broken plugin must not look like a missing one
            raise PluginError(f"{group} plugin {name!r} ({_origin(candidates[0])}) failed to import: {exc}") from exc
        if getattr(plugin, "name", name) != name:
            raise PluginError(f"{group} plugin {name!r} ({_origin(candidates[0])}) calls itself {plugin.name!r}")
        loaded[name] = plugin
    return loaded
