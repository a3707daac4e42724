"""Pure mappings: status tables, error outcomes, routes, webhook events."""

from __future__ import annotations

import pytest

from gateways.paypal import transformers as tf
from hub.contracts import Outcome


def test_status_maps_cover_the_spec_enums() -> None:
    assert set(tf.V2_REFUND_STATUS) == {"CANCELLED", "FAILED", "PENDING", "COMPLETED"}
    assert set(tf.V1_REFUND_STATE) == {"pending", "completed", "cancelled", "failed"}
    assert tf.v2_refund_result({"id": "R", "status": "SOMETHING_NEW"}).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    ("status", "issue", "outcome"),
    [
        (400, "INVALID_PARAMETER_SYNTAX", Outcome.FAILED),
        (401, None, Outcome.FAILED),
        (403, "PERMISSION_DENIED", Outcome.FAILED),
        (404, "INVALID_RESOURCE_ID", Outcome.FAILED),
        (408, None, Outcome.UNKNOWN),
        (409, "PREVIOUS_REQUEST_IN_PROGRESS", Outcome.UNKNOWN),
        (422, "REFUND_NOT_ALLOWED", Outcome.FAILED),
        (422, "DUPLICATE_INVOICE_ID", Outcome.UNKNOWN),  # the hub id was already used: money may have moved
        (429, None, Outcome.UNAVAILABLE),
        (500, None, Outcome.UNKNOWN),
        (502, None, Outcome.UNKNOWN),
        (503, None, Outcome.UNKNOWN),
    ],
)
def test_error_outcomes(status: int, issue: str | None, outcome: Outcome) -> None:
    assert tf.failure_outcome(tf.ApiFailure(status=status, issue=issue)) is outcome


@pytest.mark.parametrize(
    ("extra", "route"),
    [
        ({}, tf.V2),
        ({"paypal_api": "v1"}, tf.V1),
        ({"paypal_api": "auto"}, tf.AUTO),
        ({"intent": "AUTHORIZE"}, tf.VOID),
        ({"intent": "authorize", "captured": "false"}, tf.VOID),
        ({"intent": "AUTHORIZE", "captured": "true"}, tf.V2),
        ({"intent": "CAPTURE", "captured": "false"}, tf.V2),
    ],
)
def test_routes(extra: dict[str, str], route: str) -> None:
    assert tf.route_for(extra) == route


def test_events_need_a_refund_resource() -> None:
    assert tf.webhook_events({"event_type": "PAYMENT.CAPTURE.REFUNDED"}) == []
    assert tf.webhook_events({"event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "C"}}) == []
    [event] = tf.webhook_events({"id": "WH-1", "event_type": "PAYMENT.REFUND.FAILED", "resource": {"id": "R"}})
    assert event.outcome is Outcome.FAILED and event.hub_refund_id is None
