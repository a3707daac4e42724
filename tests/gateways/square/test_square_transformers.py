"""Pure Square mappings: keys, reasons, money, statuses, payment balances and exception outcomes."""

from __future__ import annotations

import httpx
import pytest
from square.core.api_error import ApiError

from gateways.square import transformers as tx
from gateways.square.errors import exception_result, lookup_failure
from hub.contracts import Outcome
from hub.models.money import CurrencyError


def test_status_map_is_exactly_squares_four_statuses():
    assert tx.REFUND_STATUS == {
        "PENDING": Outcome.PENDING,
        "COMPLETED": Outcome.SUCCEEDED,
        "REJECTED": Outcome.FAILED,
        "FAILED": Outcome.FAILED,
    }
    assert tx.refund_outcome("SOMETHING_NEW") is Outcome.UNKNOWN
    assert tx.refund_outcome(None) is Outcome.UNKNOWN


@pytest.mark.parametrize("key", ["hub-rf_1", "k" * 45])
def test_short_keys_are_kept(key):
    assert tx.idempotency_key(key) == key


@pytest.mark.parametrize(
    "key", ["k" * 46, "store-42:order-100200300:refund-request-77", "é" * 30, "rückerstattung-" * 5]
)
def test_long_keys_are_derived_stably_within_45_bytes(key):
    derived = tx.idempotency_key(key)
    assert derived == tx.idempotency_key(key)
    assert len(derived.encode()) <= 45
    assert derived != tx.idempotency_key(key + "x")


def test_reason_carries_the_hub_id_and_fits():
    reason = tx.compose_reason("Order 7: damaged   item\nsent back", "rf_abc")
    assert reason == "Order 7: damaged item sent back [hub_refund_id=rf_abc]"
    assert tx.hub_refund_id_from_reason(reason) == "rf_abc"
    long = tx.compose_reason("y" * 1000, "rf_abc")
    assert len(long) <= 192 and tx.hub_refund_id_from_reason(long) == "rf_abc"
    assert tx.compose_reason("", "rf_abc") == "[hub_refund_id=rf_abc]"
    assert tx.hub_refund_id_from_reason("Returned in store") is None
    assert tx.hub_refund_id_from_reason(None) is None
    huge = "rf_" + "z" * 200
    assert tx.reason_matches(tx.compose_reason("t", huge), huge)


@pytest.mark.parametrize(("amount", "currency"), [(500, "jpy"), (1250, "KWD"), (10000, "HUF"), (1, "usd")])
def test_money_passes_minor_units_through(amount, currency):
    assert tx.to_money(amount, currency) == {"amount": amount, "currency": currency.upper()}
    assert tx.from_money(tx.to_money(amount, currency)) == (amount, currency.upper())


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        (0, "USD", ValueError),
        (-5, "USD", ValueError),
        (True, "USD", ValueError),
        (1.5, "USD", ValueError),
        (100, "XYZ", CurrencyError),
    ],
)
def test_money_refuses_what_square_would(amount, currency, error):
    with pytest.raises(error):
        tx.to_money(amount, currency)


def test_refund_response_readings():
    refund = {"id": "r1", "status": "COMPLETED", "amount_money": {"amount": 5, "currency": "USD"}}
    assert tx.refund_response_result({"refund": refund}).outcome is Outcome.SUCCEEDED
    warned = tx.refund_response_result({"refund": refund, "errors": [{"code": "W", "detail": "d"}]})
    assert (warned.outcome, warned.code) == (Outcome.SUCCEEDED, "W")
    assert tx.refund_response_result({"errors": [{"code": "X"}]}).outcome is Outcome.FAILED
    assert tx.refund_response_result({}).outcome is Outcome.UNKNOWN


def test_payment_state_counts_pending_refunds_and_takes_the_larger_total():
    payment = {
        "id": "p",
        "status": "COMPLETED",
        "total_money": {"amount": 1000, "currency": "USD"},
        "amount_money": {"amount": 900, "currency": "USD"},
        "refunded_money": {"amount": 100, "currency": "USD"},
    }
    refunds = [
        {"id": "a", "status": "COMPLETED", "amount_money": {"amount": 100, "currency": "USD"}},
        {"id": "b", "status": "PENDING", "amount_money": {"amount": 200, "currency": "USD"}},
        {"id": "c", "status": "FAILED", "amount_money": {"amount": 400, "currency": "USD"}},
    ]
    state = tx.payment_state(payment, refunds)
    assert (state.captured, state.refunded, state.currency) == (1000, 300, "USD")
    assert tx.payment_state({**payment, "refunded_money": {"amount": 700, "currency": "USD"}}).refunded == 700
    assert tx.payment_state({**payment, "status": "APPROVED"}).captured == 0


def api_error(status: int | None, code: str | None = None) -> ApiError:
    body = {"errors": [{"category": "API_ERROR", "code": code, "detail": "d"}]} if code else None
    return ApiError(status_code=status, body=body)


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        (api_error(400, "REFUND_AMOUNT_INVALID"), Outcome.FAILED, "REFUND_AMOUNT_INVALID"),
        (api_error(400, "REFUND_ALREADY_PENDING"), Outcome.FAILED, "REFUND_ALREADY_PENDING"),
        (api_error(400, "IDEMPOTENCY_KEY_REUSED"), Outcome.UNKNOWN, "IDEMPOTENCY_KEY_REUSED"),
        (api_error(401, "UNAUTHORIZED"), Outcome.FAILED, "UNAUTHORIZED"),
        (api_error(403, "INSUFFICIENT_PERMISSIONS_FOR_REFUND"), Outcome.FAILED, "INSUFFICIENT_PERMISSIONS_FOR_REFUND"),
        (api_error(429, "RATE_LIMITED"), Outcome.UNAVAILABLE, "RATE_LIMITED"),
        (api_error(409, "CONFLICT"), Outcome.UNKNOWN, "CONFLICT"),
        (api_error(503, "SERVICE_UNAVAILABLE"), Outcome.UNKNOWN, "SERVICE_UNAVAILABLE"),
        (api_error(None), Outcome.UNKNOWN, "Unknown"),
        (httpx.ConnectError("refused"), Outcome.UNAVAILABLE, "ConnectError"),
        (httpx.PoolTimeout("pool"), Outcome.UNAVAILABLE, "PoolTimeout"),
        (httpx.ReadTimeout("slow"), Outcome.UNKNOWN, "ReadTimeout"),
        (RuntimeError("surprise"), Outcome.UNKNOWN, "RuntimeError"),
    ],
)
def test_exception_outcomes(error, outcome, code):
    result = exception_result(error)
    assert (result.outcome, result.code) == (outcome, code)


def test_lookup_failures_never_claim_nothing_was_sent():
    assert lookup_failure(httpx.ConnectError("refused")).outcome is Outcome.UNKNOWN
    assert lookup_failure(api_error(429, "RATE_LIMITED")).outcome is Outcome.UNKNOWN


def test_webhook_event_ignores_other_types_and_refundless_bodies():
    assert tx.webhook_event({"type": "payment.updated"}) is None
    assert tx.webhook_event({"type": "refund.updated", "data": {}}) is None
    event = tx.webhook_event({"type": "refund.created", "event_id": "e", "data": {"id": "r9", "object": {}}})
    assert event is not None and (event.gateway_refund_id, event.outcome) == ("r9", Outcome.UNKNOWN)
