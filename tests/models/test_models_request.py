"""hub.models.request and events: the normalized schema plugin authors write to (DESIGN.md §3).

Its vocabulary (product kinds, reason codes, event kinds) is published and stored, so it is pinned;
its constraints are what a connector's output must meet: integer minor units never negative, a
requested amount above zero, ISO currencies, timezone-aware times, unknown fields refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest

from hub.models import (
    Customer,
    DigitalUsage,
    EventEnvelope,
    Ignored,
    Line,
    OrderFacts,
    Payment,
    ProductKind,
    ReasonCode,
    RefundRecorded,
    RefundRequest,
    RefundRequested,
)
from hub.models.json_schema import SCHEMA_ID, json_schema
from hub.models.request import utc_now

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def order(**kw: Any) -> OrderFacts:
    return OrderFacts(**{"created_at": NOW, "currency": "usd", "total": 1000, "captured": 1000, **kw})


def payment(**kw: Any) -> Payment:
    return Payment(**{"platform_label": "stripe", "reference": "pi_1", "captured": 1000, "currency": "eur", **kw})


def request(**kw: Any) -> RefundRequest:
    fields: dict[str, Any] = {
        "connector": "shopify",
        "store_id": "s1",
        "order_id": "o1",
        "source_ref": "r1",
        "order": order(),
        "amount": 500,
        "currency": "usd",
        "payments": (payment(),),
        "requested_at": NOW,
    }
    return RefundRequest(**{**fields, **kw})


def test_the_vocabulary() -> None:
    assert [k.value for k in ProductKind] == ["physical", "digital", "service", "subscription", "gift_card"]
    assert [r.value for r in ReasonCode] == [
        "not_received",
        "damaged",
        "defective",
        "not_as_described",
        "wrong_item",
        "size_or_fit",
        "changed_mind",
        "duplicate",
        "fraud",
        "cancelled",
        "other",
    ]


def test_defaults() -> None:
    r = request()
    assert (r.reason, r.reason_text, r.shipping, r.lines, r.hub_refund_id, r.delivery_id) == (
        ReasonCode.OTHER,
        "",
        0,
        (),
        None,
        None,
    )
    assert r.customer == Customer()
    assert (r.customer.id, r.customer.email) == (None, None)
    assert (r.order.refunded, r.order.paid_at, r.order.presentment_currency) == (0, None, None)
    assert payment().gateway is None
    assert payment().extra == {}
    line = Line(line_id="1", quantity=1, unit_price=100)
    assert (line.title, line.tax, line.kind, line.final_sale, line.tags, line.usage, line.sku) == (
        "",
        0,
        ProductKind.PHYSICAL,
        False,
        (),
        None,
        None,
    )
    assert DigitalUsage() == DigitalUsage(downloads=None, download_limit=None, activations=None, accessed=None)


def test_currencies_are_normalized_and_validated() -> None:
    r = request(order=order(presentment_currency="cad"))
    assert (r.currency, r.order.currency, r.order.presentment_currency, r.payments[0].currency) == (
        "USD",
        "USD",
        "CAD",
        "EUR",
    )
    for build in (
        lambda: request(currency="ABC"),
        lambda: order(currency="ABC"),
        lambda: order(presentment_currency="ABC"),
        lambda: payment(currency="ABC"),
    ):
        with pytest.raises(pydantic.ValidationError, match="unknown ISO 4217 currency"):
            build()


def test_a_line_total_is_units_times_price_plus_tax() -> None:
    assert Line(line_id="1", quantity=3, unit_price=250, tax=45).total == 795
    assert Line(line_id="1", quantity=0, unit_price=250).total == 0


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Line(line_id="1", quantity=-1, unit_price=1), "quantity"),
        (lambda: Line(line_id="1", quantity=1, unit_price=-1), "unit_price"),
        (lambda: Line(line_id="1", quantity=1, unit_price=1, tax=-1), "tax"),
        (lambda: order(total=-1), "total"),
        (lambda: order(captured=-1), "captured"),
        (lambda: order(refunded=-1), "refunded"),
        (lambda: payment(captured=-1), "captured"),
        (lambda: request(shipping=-1), "shipping"),
        (lambda: request(amount=0), "amount"),
    ],
)
def test_minor_units_are_never_negative_and_a_request_asks_for_something(build: Any, field: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        build()


def test_zero_is_a_valid_amount_where_nothing_is_owed() -> None:
    Line(line_id="1", quantity=0, unit_price=0, tax=0)
    order(total=0, captured=0, refunded=0)
    payment(captured=0)
    assert request(amount=1, shipping=0).amount == 1


def test_times_must_be_timezone_aware() -> None:
    with pytest.raises(pydantic.ValidationError):
        order(created_at=datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(pydantic.ValidationError):
        request(requested_at=datetime(2026, 1, 1))  # noqa: DTZ001
    assert order(created_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))).created_at.utcoffset()


def test_models_are_frozen_and_refuse_unknown_fields() -> None:
    r = request()
    with pytest.raises(pydantic.ValidationError):
        r.amount = 1  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="typo"):
        request(typo=1)
    with pytest.raises(pydantic.ValidationError, match="typo"):
        Customer(typo="x")  # type: ignore[call-arg]


def test_the_primary_payment_is_the_first() -> None:
    r = request(payments=(payment(reference="first"), payment(reference="second")))
    assert r.primary_payment.reference == "first"


def test_utc_now_is_aware_and_current() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert abs((datetime.now(UTC) - now).total_seconds()) < 5


def test_events_carry_their_kind() -> None:
    r = request()
    assert RefundRequested(request=r).kind == "requested"
    recorded = RefundRecorded(request=r, money_moved=True)
    assert (recorded.kind, recorded.gateway_refund_id) == ("recorded", None)
    ignored = Ignored(reason="not a refund")
    assert (ignored.kind, ignored.topic) == ("ignored", "")
    requested = EventEnvelope.model_validate({"event": {"kind": "requested", "request": r.model_dump()}})
    assert isinstance(requested.event, RefundRequested)
    with pytest.raises(pydantic.ValidationError, match="does not match any of the expected tags"):
        EventEnvelope.model_validate({"event": {"kind": "nonsense"}})  # one tag picks the event model
    parsed = EventEnvelope.model_validate({"event": {"kind": "ignored", "reason": "x"}})
    assert isinstance(parsed.event, Ignored)
    parsed = EventEnvelope.model_validate(
        {"event": {"kind": "recorded", "request": r.model_dump(), "money_moved": False}}
    )
    assert isinstance(parsed.event, RefundRecorded)


def test_the_published_json_schema() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID == "https://refund-hub.dev/schema/event.json"
    assert "event" in schema["properties"]
    assert schema["properties"]["event"]["discriminator"]["propertyName"] == "kind"


def test_the_published_json_schema_has_the_hubs_title() -> None:
    assert json_schema()["title"] == "Refund Hub normalized event"
