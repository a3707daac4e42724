"""``PayPalGateway``: refunds (v2 capture, v1 sale, void), lookups and status webhooks for one account."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gateways.paypal import lookup, money, webhooks
from gateways.paypal import transformers as tf
from gateways.paypal.client import PayPalApi
from gateways.paypal.disputes import dispute_events
from gateways.paypal.errors import failure_of, lookup_outcome, not_found, read_error, refund_outcome
from gateways.paypal.listing import list_page
from gateways.paypal.settings import PayPalSettings
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
from hub.errors import HubError, ParseError
from hub.models.money import normalize_currency


class PayPalGateway(Gateway):
    name = "paypal"
    # PayPal-Request-Id replays "the latest status of the previous request". The v2 spec keeps
    # keys 45 days, v1 30 days, and other PayPal texts say 6 hours: design for the shortest.
    replay_window: ClassVar[timedelta | None] = timedelta(hours=6)

    def __init__(self, account: str, settings: Mapping[str, Any]) -> None:
        super().__init__(account, settings)
        self.config = PayPalSettings.from_mapping(account, settings)
        self.api = PayPalApi(self.config)

    def close(self) -> None:
        self.api.close()

    # -- refunds -----------------------------------------------------------------------------
    def refund(self, execution: Execution) -> RefundResult:
        try:
            return self._refund(execution)
        except Exception as exc:  # noqa: BLE001 - the adapter boundary: every failure becomes an outcome
            return refund_outcome(exc)

    def _refund(self, execution: Execution) -> RefundResult:
        currency = normalize_currency(execution.currency)
        value = None if execution.full_refund else money.to_value(execution.amount, currency)
        route = tf.route_for(execution.payment_extra)
        if route == tf.VOID:
            return self._void(execution)
        if route == tf.V1:
            return self._refund_sale(execution, value, currency)
        try:
            return self._refund_capture(execution, value, currency)
        except Exception as exc:
            if route == tf.AUTO and not_found(exc):
                return self._refund_sale(execution, value, currency)  # a 404 moved nothing: safe to redirect
            raise

    def _refund_capture(self, execution: Execution, value: str | None, currency: str) -> RefundResult:
        body = tf.refund_request(execution.hub_refund_id, value, currency)
        refund = self.api.refund_capture(execution.payment_reference, execution.idempotency_key, body)
        return self._checked(tf.v2_refund_result(refund), refund, execution, value)

    def _refund_sale(self, execution: Execution, value: str | None, currency: str) -> RefundResult:
        body = tf.sale_refund_body(execution.hub_refund_id, value, currency)
        refund = self.api.refund_sale(execution.payment_reference, execution.idempotency_key, body)
        return self._checked(tf.v1_refund_result(refund), refund, execution, value)

    @staticmethod
    def _checked(
        result: RefundResult, refund: Mapping[str, Any], execution: Execution, value: str | None
    ) -> RefundResult:
        expected = None if value is None else execution.amount
        return tf.replay_mismatch(result, refund, execution.hub_refund_id, expected) or result

    def _void(self, execution: Execution) -> RefundResult:
        """An AUTHORIZE-intent payment not captured yet: release it with a void, which is all or nothing."""
        reference = execution.payment_reference
        if not execution.full_refund:
            held = tf.void_result(self.api.authorization(reference)).amount
            if held is not None and held != execution.amount:
                return RefundResult(
                    outcome=Outcome.FAILED,
                    code="PARTIAL_VOID_NOT_SUPPORTED",
                    message=f"a void releases all {held} of {reference}, not {execution.amount}",
                )
        try:
            authorization = self.api.void_authorization(reference, execution.idempotency_key)
        except Exception as exc:
            failure = failure_of(exc)
            if failure is None or failure.issue != "PREVIOUSLY_VOIDED":
                raise
            return replace(tf.void_result(self.api.authorization(reference)), code="PREVIOUSLY_VOIDED")
        return tf.void_result(authorization or self.api.authorization(reference))

    # -- lookups -----------------------------------------------------------------------------
    def get_refund(self, lookup_: RefundLookup) -> RefundResult | None:
        """By PayPal refund id, else by the hub refund id in the order's refunds. None means no
        trace: the janitor then re-sends with the same ``PayPal-Request-Id``, which PayPal answers
        with the earlier request's refund if there was one (the replay is the last lookup)."""
        route = tf.route_for(lookup_.payment_extra)
        try:
            if route == tf.VOID:
                return lookup.void_state(self.api, lookup_.payment_reference)
            if lookup_.gateway_refund_id:
                return lookup.by_id(self.api, route, lookup_.gateway_refund_id)
            if route == tf.V1:
                return None  # a v1 sale lists no refunds: only the same-key replay can tell
            return lookup.in_order(self.api, lookup_.payment_reference, lookup_.hub_refund_id, lookup_.payment_extra)
        except Exception as exc:  # noqa: BLE001 - a failed lookup is an unknown outcome, never an exception
            if route == tf.AUTO and not_found(exc):
                return None  # not a v2 capture; the sale behind it cannot be searched
            return lookup_outcome(exc)

    def payment(self, reference: str, extra: Mapping[str, str] | None = None) -> PaymentState:
        extra = extra or {}
        route = tf.route_for(extra)
        try:
            if route == tf.VOID:
                return lookup.authorization_state(self.api, reference)
            if route == tf.V1:
                return lookup.sale_state(self.api, reference, extra)
            try:
                return lookup.capture_state(self.api, reference, extra)
            except Exception as exc:
                if route == tf.AUTO and not_found(exc):
                    return lookup.sale_state(self.api, reference, extra)
                raise
        except HubError:
            raise
        except Exception as exc:
            raise read_error(exc, f"payment {reference}") from exc

    def list_refunds(self, since: datetime, cursor: str | None) -> RefundListing | None:
        """The account's refunds since ``since`` by Transaction Search (``gateways.paypal.listing``)."""
        return list_page(self.api.rest.get, since, cursor)

    # -- webhooks ----------------------------------------------------------------------------
    def verify_webhook(self, inbound: Inbound) -> Verified:
        return webhooks.verify(self.api, self.config, self.account, inbound)

    def parse_webhook(self, body: bytes) -> list[GatewayEvent]:
        return tf.webhook_events(_event(body))

    def parse_disputes(self, body: bytes) -> list[DisputeEvent]:
        return dispute_events(_event(body))


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"PayPal webhook body is not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise ParseError("PayPal webhook body is not a JSON object")
    return event
