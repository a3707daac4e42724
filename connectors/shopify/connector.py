"""The Shopify connector: the hub's ``Connector`` contract over Shopify webhooks and the Admin GraphQL API.

Each method delegates to the module that does that one job (verify, parse, fetch, refund, record,
install).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.shopify import fetch, listing, parse, record, refund, verify
from connectors.shopify.client import AdminClient
from connectors.shopify.settings import DEFAULT_ROUTES, AppSettings
from hub.contracts import (
    Answer,
    Connector,
    CreditIssue,
    CreditResult,
    DecisionNotice,
    Delivery,
    Execution,
    FramedRequest,
    FramedSession,
    Inbound,
    Notice,
    PollResult,
    RecordResult,
    RefundListing,
    RefundLookup,
    RefundResult,
    StoreContext,
    StoreDirectory,
    Verified,
    WriteBack,
)
from hub.models import Event, RefundRequest

if TYPE_CHECKING:
    from flask import Blueprint


class ShopifyConnector(Connector):
    name: ClassVar[str] = "shopify"
    content_types: ClassVar[tuple[str, ...]] = ("application/json",)
    default_routes: ClassVar[Mapping[str, str]] = DEFAULT_ROUTES

    # get_platform_refund reads every refund of the order (Order.refunds untruncated) for the
    # hub's [refund-hub:<id>] note marker, which refundCreate writes with the refund itself:
    # no marker means no refund of ours, so the janitor may re-send an unknown one (same key).
    lookup_is_complete: ClassVar[bool] = True
    # How long Shopify keeps an @idempotent key could not be confirmed from Shopify's own
    # documentation (shopify.dev "Implementing idempotency" names a retention window without
    # the stored copy showing its length), so the hub is promised none.
    replay_window: ClassVar[timedelta | None] = None

    def __init__(self, settings: Mapping[str, Any], stores: StoreDirectory) -> None:
        super().__init__(settings, stores)
        self.app = AppSettings.from_mapping(settings)

    def verify(self, inbound: Inbound) -> Verified:
        return verify.verify(self.app, inbound)

    def parse(self, delivery: Delivery) -> list[Notice]:
        # the body binds topic and shop; an uninstall or shop erasure is confirmed with Shopify
        return [fetch.confirm_gone(self.app, self.stores, notice) for notice in parse.parse(delivery)]

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        return fetch.fetch(self.app, self.stores, store, notice)

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        return refund.refund_on_platform(self.app, self.stores, store, execution)

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        return refund.get_platform_refund(self.app, self.stores, store, lookup)

    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        return record.record(self.app, self.stores, store, writeback)

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        return record.notify_decision(self.app, self.stores, store, notice)

    def customer_order(self, store: StoreContext, order_number: str) -> RefundRequest | None:
        from connectors.shopify.customer import customer_order

        return customer_order(self.app, self.stores, store, order_number)

    def issue_credit(self, store: StoreContext, credit: CreditIssue) -> CreditResult:
        from connectors.shopify.credit import issue_credit

        return issue_credit(self.app, self.stores, store, credit)

    def framed(self, request: FramedRequest) -> FramedSession | Answer | None:
        from connectors.shopify import embedded  # Flask and App Home only where the console runs

        return embedded.framed(self.app, self.stores, request)

    def list_refunds(self, store: StoreContext, since: datetime, cursor: str | None) -> RefundListing | None:
        """The store's refunds since ``since``, by its orders (``connectors.shopify.listing``)."""
        with AdminClient(self.app, self.stores, store) as client:
            return listing.list_page(client, since, cursor)

    def order_count(self, store: StoreContext, since: datetime, until: datetime) -> int | None:
        """``ordersCount`` over [since, until), exact or None (``connectors.shopify.facts``)."""
        from connectors.shopify.facts import order_count

        with AdminClient(self.app, self.stores, store) as client:
            return order_count(client, since, until)

    def check_webhooks(self, store: StoreContext) -> list[str]:
        """The shop's subscriptions to the hub, made again where Shopify deleted them (``health``)."""
        from connectors.shopify.health import check_webhooks

        return check_webhooks(self.app, self.stores, self.stores.get(store.id) or store)  # the newest token

    def poll(self, store: StoreContext, cursor: str | None) -> Iterator[PollResult]:
        """Returns waiting for a decision and what changed since ``cursor`` (``connectors.shopify.poll``)."""
        from connectors.shopify.poll import pages

        with AdminClient(self.app, self.stores, self.stores.get(store.id) or store) as client:  # the newest token
            yield from pages(client, store.id, cursor)

    def blueprint(self) -> Blueprint:
        from connectors.shopify.install import blueprint

        return blueprint(self.app, self.stores)
