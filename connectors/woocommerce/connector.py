"""The WooCommerce connector: webhooks in, REST v3 out, with the hub's contract around them.

Configuration (``[connectors.woocommerce]``): ``app_url`` (the hub's public URL, for install
and webhook delivery URLs), ``app_name``, ``timeout`` (seconds, default 20), ``test_mode``
(allows http and loopback store URLs), ``poll_lookback_hours`` (first poll, default 24), and
defaults for the store settings below.

Store settings: ``url`` (home URL; the store id is its normalized form, see ``store_id_for``),
``refund_request_status`` (default ``refund-requested``), ``refund_request_action`` (an
``action.*`` topic a returns plugin fires with the order id), ``refund_reason_meta`` (order
meta holding the customer's reason, default ``_refund_reason``), ``execute_manual_refunds``
(default false: whether the hub should execute manual refunds at the gateway, copied into each
``recorded`` notice's hints), ``restock`` (``api_restock`` on write-back, default false),
``verify_ssl``, ``query_string_auth``. Credentials: ``consumer_key``, ``consumer_secret``,
``webhook_secret``, ``previous_webhook_secret``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.woocommerce import reading, verify, writing
from connectors.woocommerce.client import WooClient, WooError
from connectors.woocommerce.notices import StoreOptions, ignored, notices_for
from connectors.woocommerce.polling import poll
from connectors.woocommerce.routes import DEFAULT_ROUTES
from connectors.woocommerce.webhooks import HUB_TOPICS, WebhookProblem, ensure_webhooks
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
from hub.errors import ParseError, PlatformError, PlatformUnavailable
from hub.models import Event, Ignored

if TYPE_CHECKING:
    from flask import Blueprint

PLUGIN_FAILURE_KEY = "platform_refund_failed:"
UNREADABLE = (KeyError, ValueError, TypeError)  # pydantic's ValidationError and CurrencyError are ValueErrors


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
        if delivery.topic == verify.PING_TOPIC:
            return [ignored(delivery.store_id, delivery.topic, "webhook creation ping")]
        try:
            body = json.loads(delivery.body)
            return notices_for(delivery.store_id, delivery.topic, body, self.options(delivery.store_id))
        except UNREADABLE as exc:
            raise ParseError(f"unreadable WooCommerce {delivery.topic} delivery: {exc!r}") from exc

    def fetch(self, store: StoreContext, notice: Notice) -> Event:
        if notice.kind not in ("recorded", "requested"):
            return Ignored(reason=str(notice.hints.get("reason") or notice.kind), topic=notice.topic)
        reader = reading.StoreReader(self.client(store))
        with self._platform_errors(f"fetch {notice.kind} order {notice.order_id}"):
            try:
                if notice.kind == "recorded":
                    return reading.recorded(store, reader, notice)
                reason_meta = str(self._option(store, "refund_reason_meta", "_refund_reason"))
                return reading.requested(store, reader, notice, self.options(store.id, store), reason_meta)
            except UNREADABLE as exc:
                raise ParseError(f"WooCommerce answered an unreadable order {notice.order_id}: {exc!r}") from exc

    # -- outbound --------------------------------------------------------------------------
    def record(self, store: StoreContext, writeback: WriteBack) -> RecordResult:
        with self._platform_errors(f"record refund {writeback.hub_refund_id}"):
            return writing.record(self.client(store), writeback, restock=bool(self._option(store, "restock", False)))

    def refund_on_platform(self, store: StoreContext, execution: Execution) -> RefundResult:
        result = writing.refund_on_platform(
            self.client(store), execution, restock=bool(self._option(store, "restock", False))
        )
        if result.code == writing.PLUGIN_FAILED:
            # WooCommerce rolled its refund back, but the payment plugin's own gateway call may
            # have gone through: remember it, so the janitor's lookup does not read "no trace"
            self.stores.set_state(store.id, f"{PLUGIN_FAILURE_KEY}{execution.hub_refund_id}", result.message or "")
        return result

    def get_platform_refund(self, store: StoreContext, lookup: RefundLookup) -> RefundResult | None:
        found = writing.get_platform_refund(self.client(store), lookup)
        failure = self.stores.get_state(store.id, f"{PLUGIN_FAILURE_KEY}{lookup.hub_refund_id}")
        if found is None and failure is not None:
            return RefundResult(outcome=Outcome.UNKNOWN, code=writing.PLUGIN_FAILED, message=failure)
        return found

    def notify_decision(self, store: StoreContext, notice: DecisionNotice) -> RecordResult | None:
        with self._platform_errors(f"note on order {notice.order_id}"):
            return writing.notify_decision(self.client(store), notice)

    def poll(self, store: StoreContext, cursor: str | None) -> PollResult | None:
        lookback = timedelta(hours=float(self.settings.get("poll_lookback_hours", 24)))
        with self._platform_errors("poll orders"):
            try:
                return poll(self.client(store), store.id, cursor, self.options(store.id, store), lookback=lookback)
            except UNREADABLE as exc:
                raise ParseError(f"unreadable order list: {exc!r}") from exc

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
        )

    def blueprint(self) -> Blueprint | None:
        from connectors.woocommerce.install import install_blueprint

        return install_blueprint(self)

    # -- helpers ---------------------------------------------------------------------------
    def client(self, store: StoreContext) -> WooClient:
        return WooClient(store, timeout=float(self.settings.get("timeout", 20)))

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
