"""The one error a policy file can cause: it names the key path that is wrong."""

from __future__ import annotations

from hub.errors import ConfigError


class PolicyError(ConfigError):
    """An invalid policy, e.g. ``windows.digital.days: must be >= 0``.

    ``key`` is the dotted path inside the policy (``rules[2].when`` for list items);
    ``source`` is the file it came from, when there was one.
    """

    def __init__(self, key: str, problem: str, *, source: str | None = None) -> None:
        super().__init__(key, problem)
        self.source = source

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.problem}"
