"""The Magento / Adobe Commerce connector: the hub's ``Connector`` port over the modules of this package.

Adobe Commerce pushes through Adobe I/O Events or Commerce Webhooks (``verify``, ``parse``); Magento
Open Source pushes nothing and is polled (``poll``); both are re-read and normalized the same way
(``fetch``). Money on the platform route goes through ``refund``, write-backs through ``record``,
the integration activation through ``install``; the configuration is described in ``settings``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from connectors.magento import fetch, install, listing, parse, poll, record, refund, verify
from connectors.magento.client import MagentoClient
from connectors.magento.settings import DEFAULT_ROUTES
from hub.contracts import (
    Connector,
    CreditIssue,
    CreditResult,
    DecisionNotice,
    Delivery,
    Execution,
    Inbound,
    Notice,
    Outcome,
    PollResult,
    RecordResult,
    RefundListing,
    RefundLookup,
    RefundResult,
    StoreContext,
    Verified,
    WriteBack,
)
from hub.errors import PlatformError
from hub.models import Event, RefundRequest

if TYPE_CHECKING:
    from flask import Blueprint


class MagentoConnector(Connector):
    name = "magento"
    # Magento has no idempotency key, so there is no replay window; and "no credit memo carries
    # the hub id" does not prove no money moved: the payment module refunds at the gateway before
    # the credit memo is saved, in a transaction that can still roll back (``refund``). An unknown
    # platform refund with no trace is a person's to settle, never re-sent.
    lookup_is_complete: ClassVar[bool] = False
    replay_window: ClassVar[timedelta | None] = None
    default_routes: ClassVar[Mapping[str, str]] = DEFAULT_ROUTES

    def client(self, store: StoreContext) -> MagentoClient:
        # a store saved by an activation has the URL an unauthenticated request named: pinned
        activated = bool(store.settings.get("installed_at"))
        return MagentoClient(store, pin=activated, allow_private=bool(self.settings.get("allow_private_networks")))

    def verify(self, inbound: Inbound) -> Verified:
        return verify.verify(self.settings, self.stores, inbound)

    def parse(self, delivery: Delivery) -> list[Notice]:
        return parse.parse(self.stores, delivery)

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        with self.client(store) as client:
            return fetch.fetch(client, store, notice)

    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        with self.client(store) as client:
            return record.record(client, self.stores, store, writeback)

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        try:
            client = self.client(store)
        except PlatformError as exc:  # no usable credentials or URL: nothing was sent
            return RefundResult(outcome=Outcome.UNAVAILABLE, code="not_configured", message=str(exc))
        with client:
            return refund.refund_on_platform(client, self.stores, store, execution)

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        with self.client(store) as client:
            return refund.get_platform_refund(client, lookup)

    def customer_order(self, store: StoreContext, order_number: str) -> RefundRequest | None:
        from connectors.magento.customer import customer_order

        with self.client(store) as client:
            return customer_order(client, store, order_number)

    def issue_credit(self, store: StoreContext, credit: CreditIssue) -> CreditResult:
        from connectors.magento.credit import issue_credit

        with self.client(store) as client:
            return issue_credit(client, credit, int(store.settings.get("website_id", 1)))

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        with self.client(store) as client:
            return record.notify_decision(client, store, notice)

    def poll(self, store: StoreContext, cursor: str | None) -> Iterator[PollResult]:
        """One ``PollResult`` per page read, each with the cursor after it (the hub saves each)."""
        with self.client(store) as client:
            yield from poll.poll(client, store, cursor)

    def list_refunds(self, store: StoreContext, since: datetime, cursor: str | None) -> RefundListing | None:
        """The store's credit memos since ``since`` (``connectors.magento.listing``)."""
        return listing.list_page(self.client(store), since, cursor)

    def order_count(self, store: StoreContext, since: datetime, until: datetime) -> int | None:
        """``total_count`` of the orders created in [since, until) (``connectors.magento.history``)."""
        from connectors.magento.history import order_count

        with self.client(store) as client:
            return order_count(client, since, until)

    def blueprint(self) -> Blueprint | None:
        return install.blueprint(self.settings, self.stores)
