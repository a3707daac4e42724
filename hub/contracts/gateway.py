"""The gateway contract (docs/plugins.md): move money, say how it went, never raise for it.

An adapter only moves money and maps errors; state and policy live in ``hub``. Credentials
come per instance (no process-global SDK configuration). Every SDK or transport exception is
mapped at the boundary into a ``RefundResult`` outcome:

- ``failed``      declined, permanent (already refunded, amount too large, ...)
- ``unavailable`` surely not sent (connection refused, DNS): retry with the same key
- ``unknown``     maybe sent (timeout, reset, 5xx, 409): resolve with ``get_refund``
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from hub.contracts.inbound import Inbound, Verified
from hub.contracts.listing import RefundListing
from hub.contracts.results import DisputeEvent, Execution, GatewayEvent, PaymentState, RefundLookup, RefundResult


class Gateway(ABC):
    """Base class of every gateway adapter; one instance per configured gateway account.

    ``account`` is the account's name in the configuration (``[gateways.<account>]``);
    ``settings`` its table (keys, base URL, timeouts), already decrypted.
    ``replay_window`` is how long the gateway promises that a request repeated with the same
    idempotency key replays the first result instead of acting again (None: never rely on it).
    The janitor re-sends an ``unknown`` refund with its key only within that window, or at any
    time when ``lookup_is_complete``; otherwise it stays ``unknown`` for a person.
    """

    name: ClassVar[str]
    replay_window: ClassVar[timedelta | None] = None
    # True when ``get_refund`` returning None proves no refund exists for the lookup (it searches
    # every refund of the payment), so re-sending with the same key can never pay twice
    lookup_is_complete: ClassVar[bool] = False

    def __init__(self, account: str, settings: Mapping[str, Any]) -> None:
        self.account = account
        self.settings = settings

    @abstractmethod
    def refund(self, execution: Execution) -> RefundResult:
        """Refund ``execution.amount`` of the payment, forwarding ``execution.idempotency_key``."""

    @abstractmethod
    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        """How an earlier attempt ended: by gateway refund id, else by searching the payment's
        refunds for the hub refund id. None when the gateway has no trace of it."""

    @abstractmethod
    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        """The payment's captured and refunded-so-far amounts (for the refundable balance)."""

    def verify_webhook(self, inbound: Inbound) -> Verified:
        """Check a status webhook's signature on the raw bytes; raise ``SignatureInvalid``."""
        raise NotImplementedError(f"gateway {self.name} has no status webhooks")

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        """Refund status events in a verified webhook body."""
        return []

    def parse_disputes(self, body: bytes) -> list[DisputeEvent]:
        """Dispute events in a verified webhook body (an open dispute holds refunds on its payment)."""
        return []

    def list_refunds(self, since: datetime, cursor: str | None) -> RefundListing | None:
        """The account's refunds created at or after ``since``, a page at a time (``cursor``: the
        previous page's), for reconciliation and backfill; None when the gateway cannot list."""
        return None
