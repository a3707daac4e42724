"""The usage-provider contract: who answers "how was this digital line used?" where the platform
cannot — a merchant's licence server counting activations.

Providers register under the entry-point group ``refund_hub.usage`` (docs/plugins.md) and a store
names the ones it asks in its setting ``usage_providers``. The hub asks them before the policy
decides (``hub.usage.with_usage``) and treats every failure as "unknown", so a provider may raise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from hub.contracts.stores import StoreContext
from hub.models import Line


class UsageProvider(ABC):
    """Made once per process with no arguments; per-store settings and secrets come with ``store``."""

    name: ClassVar[str]

    @abstractmethod
    def activations(self, store: StoreContext, order_id: str, line: Line) -> int | None:
        """How many times the licence sold on this line of the order was activated (0: never);
        None when the provider does not know. Raising counts as None."""
