"""A store as plugins see it: its settings, its decrypted credentials and its payment routes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class StoreContext:
    """Everything a connector needs to talk to one store with that store's own credentials.

    ``routes`` maps the platform's payment label to ``gateway:<account>``, ``platform`` or
    ``none`` (docs/architecture.md, routing). ``settings`` holds non-secret options (API base URL, version,
    custom statuses); ``credentials`` the decrypted secrets.
    """

    id: str
    connector: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True


class StoreDirectory(Protocol):
    """The hub's view of installed stores, handed to a connector at construction."""

    def get(self, store_id: str) -> StoreContext | None:
        """The enabled store with this id for the connector, or None."""
        ...

    def all(self) -> list[StoreContext]:
        """Every enabled store of the connector (for polling and webhook health checks)."""
        ...

    def save(self, store_id: str, *, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> StoreContext:
        """Create or update a store after an install flow; credentials are encrypted at rest."""
        ...

    def disable(self, store_id: str) -> None:
        """Mark a store uninstalled: no more webhooks are accepted or money moved for it."""
        ...

    def get_state(self, store_id: str, key: str) -> str | None:
        """Connector-private durable state per store (poll cursors, OAuth nonces); None once expired."""
        ...

    def set_state(self, store_id: str, key: str, value: str | None, *, ttl: float | None = None) -> None:
        """Save (None: forget) a value. ``ttl`` seconds: it expires and is pruned — give one to
        anything an unauthenticated request can create (an install nonce), so such rows cannot
        pile up."""
        ...
