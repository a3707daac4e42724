"""The connector contract (docs/plugins.md): a platform's webhooks in, its API out.

A connector verifies and parses the platform's deliveries, re-reads the truth from the
platform with the store's own credentials, and writes outcomes back without moving money
again. When the store routes a payment to ``platform``, the connector also asks the platform
to move the money (Shopify ``refundCreate``, WooCommerce ``api_refund: true``, Magento online
credit memo). Connectors never touch the database: durable state goes through the
``StoreDirectory`` they are given.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from hub.contracts.credit import CreditIssue, CreditResult
from hub.contracts.embedded import Answer, FramedRequest, FramedSession
from hub.contracts.inbound import Delivery, Inbound, Notice, Verified
from hub.contracts.listing import RefundListing
from hub.contracts.results import (
    DecisionNotice,
    Execution,
    Outcome,
    RecordResult,
    RefundLookup,
    RefundResult,
    WriteBack,
)
from hub.contracts.stores import StoreContext, StoreDirectory
from hub.models import Event, RefundRequest

if TYPE_CHECKING:  # Flask stays out of plugin imports
    from flask import Blueprint


@dataclass(frozen=True)
class PollResult:
    notices: list[Notice] = field(default_factory=list)
    cursor: str | None = None


class Connector(ABC):
    """Base class of every platform connector; one instance per enabled connector.

    ``name`` is the lower-case word used as folder, entry-point name, URL segment
    (``/webhooks/<name>``) and config key. ``settings`` is the ``[connectors.<name>]`` table
    of the configuration (app secrets and the like, already decrypted).
    """

    name: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]] = ("application/json",)
    # platform payment label -> route, used where the store's own ``routes`` say nothing,
    # e.g. {"shopify_payments": "platform", "stripe": "gateway:stripe"}
    default_routes: ClassVar[Mapping[str, str]] = {}
    # as ``Gateway.lookup_is_complete``/``replay_window``, for the ``platform`` route
    lookup_is_complete: ClassVar[bool] = False
    replay_window: ClassVar[timedelta | None] = None

    def __init__(self, settings: Mapping[str, Any], stores: StoreDirectory) -> None:
        self.settings = settings
        self.stores = stores

    @abstractmethod
    def verify(self, inbound: Inbound) -> Verified:
        """Check authenticity on the raw bytes, before any parsing of the body.

        Raise ``SignatureInvalid`` (401) or ``MalformedBody`` (400). Compare in constant time
        and accept the previous secret during a rotation.
        """

    @abstractmethod
    def parse(self, delivery: Delivery) -> list[Notice]:
        """Turn a stored delivery into notices; raise ``ParseError`` for an unreadable one."""

    @abstractmethod
    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        """Re-read the order, payments and products from the platform and normalize them.

        Never trust the webhook body alone for money. Raise ``PlatformUnavailable`` to retry.
        """

    @abstractmethod
    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        """Write an executed refund back to the platform without moving money again.

        The hub refund id goes into the platform record so its echo is recognised.
        """

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        """The ``platform`` route: the platform moves the money, with the idempotency key."""
        raise NotImplementedError(f"connector {self.name} cannot refund through the platform")

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        """How a platform-routed refund ended, for the janitor; None if no trace of it."""
        return None

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        """Tell the customer about a denial or an alternative (declined return, order note)."""
        return None

    def customer_order(self, store: StoreContext, order_number: str) -> RefundRequest | None:
        """The order a customer names by its number (as the store shows it to them), read from
        the platform as a request for everything still refundable on it — lines, payments, the
        customer's e-mail — for the hub's customer request page; None when there is no such
        order. Default: the platform offers the page no order look-up."""
        return None

    def issue_credit(self, store: StoreContext, credit: CreditIssue) -> CreditResult:
        """Issue an alternative the customer accepted (store credit, or a coupon bound to them),
        once per ``credit.key``: look for an earlier attempt under the key first, and answer
        ``unknown`` when the platform may have issued it without saying so. Default: the
        platform cannot, so a person must (``failed``)."""
        return CreditResult(Outcome.FAILED, code="not_supported", message=f"{self.name} cannot issue credit")

    def poll(self, store: StoreContext, cursor: str | None) -> PollResult | Iterable[PollResult] | None:
        """Catch up on what the platform could not push since ``cursor``; None if the connector
        does not poll. Return the pages one by one (a generator of ``PollResult``, each with the
        cursor after it) for a long window: the hub saves each page's cursor as it goes, so a
        failure half way resumes there."""
        return None

    def check_webhooks(self, store: StoreContext) -> list[str]:
        """Janitor health check of the store's webhook subscriptions: repair what can be repaired
        (re-enable a disabled one) and return what was found or done, in plain words."""
        return []

    def blueprint(self) -> Blueprint | None:
        """Routes the connector adds (install/OAuth flows), mounted by the app factory."""
        return None

    def framed(self, request: FramedRequest) -> FramedSession | Answer | None:
        """A console request opened inside the platform's admin: the session it proves, the
        answer it must get instead (no or a stale token), or None when it is not this platform's."""
        return None

    def list_refunds(self, store: StoreContext, since: datetime, cursor: str | None) -> RefundListing | None:
        """The store's refund records created at or after ``since``, a page at a time (``cursor``:
        the previous page's), for reconciliation and backfill; None when the platform cannot list."""
        return None

    def order_count(self, store: StoreContext, since: datetime, until: datetime) -> int | None:
        """How many orders the store took in [since, until) — the denominator of the refund rate in
        analytics; None when the platform cannot say (then the rate is left empty, never guessed)."""
        return None
