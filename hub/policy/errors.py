"""The one error a policy file can cause: it names the key path that is wrong."""

from __future__ import annotations

from hub.errors import ConfigError


class PolicyError(ConfigError):
    """An invalid policy, e.g. ``windows.digital.days: must be >= 0``.

    ``key`` is the dotted path inside the policy (``rules[2].when`` for list items);
    ``source`` is the file it came from, when there was one; ``pointer`` is the line of a CEL
    expression the problem is on and the column in it (0-based), for a caret under it.
    """

    def __init__(
        self, key: str, problem: str, *, source: str | None = None, pointer: tuple[str, int] | None = None
    ) -> None:
        super().__init__(key, problem)
        self.source = source
        self.pointer = pointer

    def with_source(self, source: str) -> PolicyError:
        """The same problem, naming the file it is in."""
        return PolicyError(self.key, self.problem, source=source, pointer=self.pointer)

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.key}: {self.problem}"
