"""The WooCommerce connector: webhooks in, REST v3 out, with the hub's contract around them.

Each method delegates to the module that does that one job (verify, parse, fetch, refund, record,
poll, subscriptions, install); the configuration is described in ``settings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.woocommerce import fetch, listing, parse, poll, record, refund, verify
from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.parse import UNREADABLE
from connectors.woocommerce.settings import DEFAULT_ROUTES, StoreOptions
from connectors.woocommerce.subscriptions import HUB_TOPICS, WebhookProblem, ensure_webhooks
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
from hub.errors import ParseError, PlatformError, PlatformUnavailable
from hub.models import Event, Ignored, RefundRequest

if TYPE_CHECKING:
    from flask import Blueprint

PLUGIN_FAILURE_KEY = "platform_refund_failed:"
CUSTOMER_TOPIC = "customer.request"  # the hub's customer page reading an order (connectors.woocommerce.customer)


class WooCommerceConnector(Connector):
    name: ClassVar[str] = "woocommerce"
    # JSON deliveries, plus the form-encoded creation ping
    content_types: ClassVar[tuple[str, ...]] = ("application/json", "application/x-www-form-urlencoded")
    default_routes = DEFAULT_ROUTES
    # lookup_is_complete stays False: get_platform_refund reads every refund of the order, but
    # WooCommerce deletes its refund record when the payment plugin's gateway call fails, and
    # such a failure (a timeout) may follow money moving at the gateway. If the hub's own request
    # timed out first it never saw that failure, so "no record" does not prove "nothing paid".

    # -- inbound ---------------------------------------------------------------------------
    def verify(self, inbound: Inbound) -> Verified:
        return verify.verify(inbound, self.stores)

    def parse(self, delivery: Delivery) -> list[Notice]:
        return parse.parse(delivery, self.options)

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        if notice.kind not in ("recorded", "requested"):
            return Ignored(reason=str(notice.hints.get("reason") or notice.kind), topic=notice.topic)
        reader = fetch.StoreReader(
            self.client(store),
            str(self._option(store, "final_sale_meta", "") or "") or None,
            analytics=self.client(store, "wc-analytics"),
        )
        with self._platform_errors(f"fetch {notice.kind} order {notice.order_id}"):
            try:
                if notice.kind == "recorded":
                    return fetch.recorded(store, reader, notice)
                reason_meta = str(self._option(store, "refund_reason_meta", "_refund_reason"))
                return fetch.requested(
                    store,
                    reader,
                    notice,
                    self.options(store.id, store),
                    reason_meta,
                    as_written=notice.topic != CUSTOMER_TOPIC,
                )
            except UNREADABLE as exc:
                raise ParseError(f"WooCommerce answered an unreadable order {notice.order_id}: {exc!r}") from exc

    def customer_order(self, store: StoreContext, order_number: str) -> RefundRequest | None:
        from connectors.woocommerce.customer import customer_order

        return customer_order(self, store, order_number)

    def issue_credit(self, store: StoreContext, credit: CreditIssue) -> CreditResult:
        from connectors.woocommerce.credit import issue_credit

        return issue_credit(self.client(store), credit)

    # -- outbound --------------------------------------------------------------------------
    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        with self._platform_errors(f"record refund {writeback.hub_refund_id}"):
            return record.record(self.client(store), writeback, restock=bool(self._option(store, "restock", False)))

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        result = refund.refund_on_platform(
            self.client(store), execution, restock=bool(self._option(store, "restock", False))
        )
        if result.code == refund.PLUGIN_FAILED:
            # WooCommerce rolled its refund back, but the payment plugin's own gateway call may
            # have gone through: remember it, so the janitor's lookup does not read "no trace"
            self.stores.set_state(store.id, f"{PLUGIN_FAILURE_KEY}{execution.hub_refund_id}", result.message or "")
        return result

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        found = refund.get_platform_refund(self.client(store), lookup)
        failure = self.stores.get_state(store.id, f"{PLUGIN_FAILURE_KEY}{lookup.hub_refund_id}")
        if found is None and failure is not None:
            return RefundResult(outcome=Outcome.UNKNOWN, code=refund.PLUGIN_FAILED, message=failure)
        return found

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        with self._platform_errors(f"note on order {notice.order_id}"):
            return record.notify_decision(self.client(store), notice)

    def poll(self, store: StoreContext, cursor: str | None) -> Iterator[PollResult]:
        """Page by page (``poll.pages``): the hub saves each page's cursor, so a failure on
        page 3 resumes after page 2. Errors leave as the hub's, while it iterates."""
        lookback = timedelta(hours=float(self.settings.get("poll_lookback_hours", 24)))
        found = poll.pages(self.client(store), store.id, cursor, self.options(store.id, store), lookback=lookback)
        while True:
            with self._platform_errors("poll orders"):
                try:
                    page = next(found, None)
                except UNREADABLE as exc:
                    raise ParseError(f"unreadable order list: {exc!r}") from exc
            if page is None:
                return
            yield page

    def check_webhooks(self, store: StoreContext) -> list[str]:
        """Janitor health check: re-enable the hub's disabled/paused webhooks, create missing ones."""
        return [str(problem) for problem in self.ensure_webhooks(store)]

    def ensure_webhooks(self, store: StoreContext) -> list[WebhookProblem]:
        """The hub's webhooks on the store, made active; what was wrong and what was done."""
        options = self.options(store.id, store)
        topics = HUB_TOPICS + ((options.request_action,) if options.request_action else ())
        return ensure_webhooks(
            self.client(store),
            store.id,
            app_url=str(self.settings.get("app_url") or ""),
            secret=store.credentials.get("webhook_secret", ""),
            topics=topics,
            stores=self.stores,
        )

    def blueprint(self) -> Blueprint | None:
        from connectors.woocommerce.install import install_blueprint

        return install_blueprint(self)

    # -- helpers ---------------------------------------------------------------------------
    def list_refunds(self, store: StoreContext, since: datetime, cursor: str | None) -> RefundListing | None:
        """The store's refund records since ``since`` (``connectors.woocommerce.listing``)."""
        return listing.list_page(self.client(store), since, cursor)

    def order_count(self, store: StoreContext, since: datetime, until: datetime) -> int | None:
        """Orders created in [since, until): ``X-WP-Total`` of ``GET /orders`` (``connectors.woocommerce.history``)."""
        from connectors.woocommerce.history import order_count

        with self._platform_errors(f"count orders of {store.id}"):
            return order_count(self.client(store), since, until)

    def client(self, store: StoreContext, namespace: str = "wc/v3") -> WooClient:
        return WooClient(store, timeout=float(self.settings.get("timeout", 20)), namespace=namespace)

    def options(self, store_id: str, store: StoreContext | None = None) -> StoreOptions:
        """Store settings over connector settings; parse reads them from the store directory."""
        known = store or self.stores.get(store_id)
        return StoreOptions.of(known.settings if known else {}, self.settings)

    def _option(self, store: StoreContext, key: str, default: Any) -> Any:
        return store.settings.get(key, self.settings.get(key, default))

    @contextmanager
    def _platform_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except WooError as exc:
            if exc.transient:
                raise PlatformUnavailable(f"{doing}: {exc.message}") from None
            raise PlatformError(f"{doing}: {exc.message}") from None
