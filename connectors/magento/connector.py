"""The Magento / Adobe Commerce connector: the hub's ``Connector`` port over the modules of this package.

Adobe Commerce pushes through Adobe I/O Events or Commerce Webhooks (``verify``, ``parse``); Magento
Open Source pushes nothing and is polled (``poll``); both are re-read and normalized the same way
(``fetch``). Money on the platform route goes through ``refund``, write-backs through ``record``,
the integration activation through ``install``; the configuration is described in ``settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from connectors.magento import fetch, install, parse, poll, record, refund, verify
from connectors.magento.client import MagentoClient
from connectors.magento.settings import DEFAULT_ROUTES
from hub.contracts import (
    Connector,
    DecisionNotice,
    Delivery,
    Execution,
    Inbound,
    Notice,
    Outcome,
    PollResult,
    RecordResult,
    RefundLookup,
    RefundResult,
    StoreContext,
    Verified,
    WriteBack,
)
from hub.errors import PlatformError
from hub.models import Event

if TYPE_CHECKING:
    from flask import Blueprint


class MagentoConnector(Connector):
    name = "magento"
    # get_platform_refund reads every credit memo of the order for the hub id in its comments, so
    # "none found" proves the platform route moved no money and the janitor may send it again.
    lookup_is_complete = True
    default_routes: ClassVar[Mapping[str, str]] = DEFAULT_ROUTES

    def client(self, store: StoreContext) -> MagentoClient:
        return MagentoClient(store)

    def verify(self, inbound: Inbound) -> Verified:
        return verify.verify(self.settings, self.stores, inbound)

    def parse(self, delivery: Delivery) -> list[Notice]:
        return parse.parse(self.stores, delivery)

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        with self.client(store) as client:
            return fetch.fetch(client, store, notice)

    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        with self.client(store) as client:
            return record.record(client, store, writeback)

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        try:
            client = self.client(store)
        except PlatformError as exc:  # no usable credentials or URL: nothing was sent
            return RefundResult(outcome=Outcome.UNAVAILABLE, code="not_configured", message=str(exc))
        with client:
            return refund.refund_on_platform(client, store, execution)

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        with self.client(store) as client:
            return refund.get_platform_refund(client, lookup)

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        with self.client(store) as client:
            return record.notify_decision(client, store, notice)

    def poll(self, store: StoreContext, cursor: str | None) -> PollResult | None:
        with self.client(store) as client:
            return poll.poll(client, store, cursor)

    def blueprint(self) -> Blueprint | None:
        return install.blueprint(self.settings, self.stores)
