"""``SquareGateway``: refunds, lookups and status webhooks through the official squareup SDK.

The SDK client (``square.Square``, pydantic models, httpx) is built on first use: a web process
only checks status webhook signatures (``gateways.square.webhooks``) and never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from threading import Lock
from typing import TYPE_CHECKING, Any

from gateways.square import transformers as tx
from gateways.square.disputes import DISPUTE_EVENT_TYPES, dispute_event, payment_held
from gateways.square.settings import SquareSettings
from gateways.square.webhooks import SIGNATURE_HEADER, check_signature, load_event
from hub.contracts import (
    DisputeEvent,
    Execution,
    Gateway,
    GatewayEvent,
    Inbound,
    Outcome,
    PaymentState,
    RefundListing,
    RefundLookup,
    RefundResult,
    Verified,
)
from hub.errors import ParseError, PlatformError, PlatformUnavailable

if TYPE_CHECKING:
    from square import Square
    from square.core.request_options import RequestOptions

    from gateways.square.client import AttemptTrace


class SquareGateway(Gateway):
    name = "square"
    # Square documents that a repeated key replays the first successful response, but states
    # no retention period (and "this behavior might vary depending on the API"): the hub must
    # not lean on replay to resolve an unknown refund; ``get_refund`` reads instead.
    replay_window = None
    lookup_is_complete = True  # get_refund reads every refund of the payment for our marker

    def __init__(self, account: str, settings: Mapping[str, Any]) -> None:
        super().__init__(account, settings)
        self.config = SquareSettings.from_mapping(account, settings)  # checked now: a bad setting fails at start
        self._built: tuple[Square, AttemptTrace] | None = None
        self._building = Lock()

    def _connection(self) -> tuple[Square, AttemptTrace]:
        """The account's SDK client and its attempt trace, made by the first call that needs them."""
        with self._building:
            if self._built is None:
                from gateways.square.client import build_client

                self._built = build_client(self.config)
            return self._built

    @property
    def client(self) -> Square:
        return self._connection()[0]

    @property
    def _attempts(self) -> AttemptTrace:
        return self._connection()[1]

    def _options(self) -> RequestOptions:
        from gateways.square.client import request_options

        return request_options(self.config)

    # -- refunds ------------------------------------------------------------------------------
    def refund(self, execution: Execution) -> RefundResult:
        """POST /v2/refunds. The body is a pure function of ``execution``, so a retry with the
        same hub key sends the identical request Square replays instead of refunding again."""
        try:
            request = tx.refund_request(execution)
        except ValueError as exc:  # refused before anything was sent
            return RefundResult(outcome=Outcome.FAILED, code="invalid_request", message=str(exc))
        from gateways.square.errors import exception_result

        self._attempts.begin()
        try:
            response = self.client.refunds.refund_payment(**request, request_options=self._options())
            return tx.refund_response_result(response.model_dump(mode="json", exclude_none=True))
        except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome, never an exception
            earlier = self._attempts.earlier_attempt_may_have_executed()
            return exception_result(exc, earlier_attempt_may_have_executed=earlier)

    def get_refund(self, lookup: RefundLookup) -> RefundResult | None:
        """By gateway refund id when known; otherwise among the payment's ``refund_ids``, the one
        whose reason carries this hub refund id. Read-only: it never re-sends the refund (a replay
        would create the refund if the first attempt never reached Square)."""
        from gateways.square.errors import lookup_failure

        try:
            if lookup.gateway_refund_id:
                return self._fetch_refund(lookup.gateway_refund_id)
            payment = self._fetch_payment(lookup.payment_reference)
            if payment is None:
                return None
            matches = [
                refund
                for refund in self._fetch_refunds(payment)
                if tx.reason_matches(refund.get("reason"), lookup.hub_refund_id)
            ]
        except Exception as exc:  # noqa: BLE001 - a failed lookup is an unknown outcome, never an exception
            return lookup_failure(exc)
        if not matches:
            return None
        # One key, one refund; should Square ever hold two, prefer one that moved money, then
        # one of the asked amount.
        matches.sort(
            key=lambda refund: (
                tx.refund_outcome(refund.get("status")) is Outcome.FAILED,
                tx.from_money(refund.get("amount_money"))[0] != lookup.amount,
            )
        )
        return tx.refund_result(matches[0])

    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        """GET /v2/payments/{id} and each of its refunds. Raises ``PlatformUnavailable`` when
        Square cannot be read now, ``PlatformError`` when it refuses (unknown payment, auth)."""
        from square.core.api_error import ApiError

        from gateways.square.errors import exception_result

        try:
            payment = self._fetch_payment(reference)
            if payment is None:
                raise PlatformError(f"Square has no payment {reference}")
            state = tx.payment_state(payment, self._fetch_refunds(payment))
            return replace(state, disputed=payment_held(self.client, reference, self._options()))
        except ApiError as exc:
            result = exception_result(exc)
            error = PlatformError if result.outcome is Outcome.FAILED else PlatformUnavailable
            raise error(f"Square payment {reference}: {result.code} {result.message}") from None
        except PlatformError:
            raise
        except Exception as exc:  # noqa: BLE001 - anything else unread is "try again later"
            raise PlatformUnavailable(f"Square payment {reference}: {type(exc).__name__}: {exc}") from None

    def _read(self, fetch: Callable[..., Any], object_id: str, field: str) -> dict[str, Any] | None:
        """GET one Square object (``refund`` or ``payment``); None when Square answers 404."""
        from square.core.api_error import ApiError

        try:
            body = fetch(object_id, request_options=self._options())
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise
        found: dict[str, Any] | None = body.model_dump(mode="json", exclude_none=True).get(field)
        return found

    def _fetch_refund(self, refund_id: str) -> RefundResult | None:
        refund = self._read(self.client.refunds.get, refund_id, "refund")
        return tx.refund_result(refund) if refund else None

    def _fetch_payment(self, reference: str) -> dict[str, Any] | None:
        return self._read(self.client.payments.get, reference, "payment")

    def _fetch_refunds(self, payment: Mapping[str, Any]) -> list[dict[str, Any]]:
        found = (
            self._read(self.client.refunds.get, refund_id, "refund") for refund_id in payment.get("refund_ids") or ()
        )
        return [refund for refund in found if refund]

    def list_refunds(self, since: datetime, cursor: str | None) -> RefundListing | None:
        """The account's refunds since ``since`` (``gateways.square.listing``), for reconciliation."""
        from gateways.square.listing import list_page

        return list_page(self.client, self._options(), since, cursor)

    # -- status webhooks ----------------------------------------------------------------------
    def verify_webhook(self, inbound: Inbound) -> Verified:
        keys = (self.settings.get("webhook_signature_key"), self.settings.get("previous_webhook_signature_key"))
        url = self.settings.get("notification_url") or inbound.url
        check_signature(inbound.body, inbound.headers.get(SIGNATURE_HEADER), keys, url)
        payload = load_event(inbound.body)
        topic = str(payload["type"])
        return Verified(
            store_id=self.account,
            topic=topic,
            dedupe_key=str(payload["event_id"]),
            ack_only=topic not in tx.REFUND_EVENT_TYPES | DISPUTE_EVENT_TYPES,
        )

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        event = tx.webhook_event(_notification(body))
        return [event] if event is not None else []

    def parse_disputes(self, body: bytes) -> list[DisputeEvent]:
        event = dispute_event(_notification(body))
        return [event] if event is not None else []


def _notification(body: bytes) -> dict[str, Any]:
    try:
        return load_event(body)
    except Exception as exc:
        raise ParseError(f"unreadable Square notification: {exc}") from exc
