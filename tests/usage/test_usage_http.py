"""The built-in usage provider ``http`` against a real licence server on 127.0.0.1, and the merge of
what providers answer into a request's digital lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.contracts import StoreContext
from hub.contracts.usage import UsageProvider
from hub.models import DigitalUsage, Line, OrderFacts, Payment, ProductKind, RefundRequest
from hub.usage import providers_for, with_usage
from hub.usage.http import HttpActivations, licence_url
from tests.usage.licence_server import Answer, LicenceServer, licence_server

TEMPLATE = "/licences/{store_id}/{order_id}/{line_id}?sku={sku}"


@pytest.fixture
def server() -> Iterator[LicenceServer]:
    with licence_server() as running:
        yield running


def store(server: LicenceServer, **settings: Any) -> StoreContext:
    return StoreContext(
        id="shop/1",
        connector="woocommerce",
        settings={"usage_providers": ["http"], "usage_url": server.url + TEMPLATE, **settings},
        credentials={"usage_token": "tok-123"},
    )


def digital(line_id: str = "11", **usage: Any) -> Line:
    return Line(
        line_id=line_id,
        sku="KEY 1",
        title="App licence",
        quantity=1,
        unit_price=5_000,
        kind=ProductKind.DIGITAL,
        usage=DigitalUsage(**usage) if usage else None,
    )


def request(*lines: Line) -> RefundRequest:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    return RefundRequest(
        connector="woocommerce",
        store_id="shop/1",
        order_id="701",
        source_ref="request:701",
        order=OrderFacts(created_at=when, currency="USD", total=10_000, captured=10_000),
        lines=lines,
        amount=10_000,
        currency="USD",
        payments=(Payment(platform_label="stripe", reference="ch_1", captured=10_000, currency="USD"),),
        requested_at=when,
    )


def test_activations_are_read_with_the_bearer_token(server: LicenceServer) -> None:
    server.answers["/licences/shop%2F1/701/11?sku=KEY%201"] = Answer(body={"activations": 2, "key": "X"})
    assert HttpActivations().activations(store(server), "701", digital()) == 2
    [seen] = server.seen
    assert seen["authorization"] == "Bearer tok-123"
    assert seen["accept"] == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        Answer(404, {"error": "no such licence"}),
        Answer(500, {"activations": 3}),
        Answer(200, b"<html>maintenance</html>"),
        Answer(200, {"activations": -1}),
        Answer(200, {"activations": True}),
        Answer(200, {"activations": "2"}),
        Answer(200, [2]),
        Answer(302, {"activations": 1}),
    ],
)
def test_anything_but_a_count_is_unknown(server: LicenceServer, answer: Answer) -> None:
    server.answers["/licences/shop%2F1/701/11?sku=KEY%201"] = answer
    assert HttpActivations().activations(store(server), "701", digital()) is None


def test_a_slow_server_is_given_up_on_in_time(server: LicenceServer) -> None:
    server.answers["/licences/shop%2F1/701/11?sku=KEY%201"] = Answer(body={"activations": 1}, delay=2.0)
    started = time.monotonic()
    assert HttpActivations().activations(store(server, usage_timeout=0.3), "701", digital()) is None
    assert time.monotonic() - started < 1.5


def test_a_server_that_is_down_is_unknown() -> None:
    down = StoreContext(id="s", connector="woocommerce", settings={"usage_url": "http://127.0.0.1:9/{order_id}"})
    assert HttpActivations().activations(down, "701", digital()) is None


@pytest.mark.parametrize(
    "template",
    [
        "",
        "http://licences.example.com/{order_id}",  # the token would travel in clear text
        "ftp://127.0.0.1/{order_id}",
        "https://licences.example.com/{customer_email}",
        "https://licences.example.com/{0}",
        "https://licences.example.com/{order_id",
    ],
)
def test_templates_that_cannot_be_used_are_refused_before_any_request(template: str) -> None:
    bad = StoreContext(id="s", connector="woocommerce", settings={"usage_url": template})
    assert licence_url(bad, "701", digital()) is None


def test_https_and_loopback_templates_are_filled_in_encoded() -> None:
    good = StoreContext(id="s", connector="woocommerce", settings={"usage_url": "https://l.example/{sku}/{product_id}"})
    assert licence_url(good, "701", digital()) == "https://l.example/KEY%201/"
    local = StoreContext(id="s", connector="woocommerce", settings={"usage_url": "http://localhost:8/{line_id}"})
    assert licence_url(local, "701", digital("a/b")) == "http://localhost:8/a%2Fb"


def test_the_store_names_its_providers_through_the_entry_point_group(server: LicenceServer) -> None:
    server.answers["/licences/shop%2F1/701/11?sku=KEY%201"] = Answer(body={"activations": 1})
    physical = Line(line_id="12", title="Mug", quantity=1, unit_price=5_000)
    asked = request(digital(downloads=0, download_limit=3), physical)
    merged = with_usage(store(server), asked)
    assert merged.lines[0].usage == DigitalUsage(downloads=0, download_limit=3, activations=1)
    assert merged.lines[1] == physical
    assert len(server.seen) == 1  # the physical line was never asked about


def test_known_activations_and_stores_without_providers_ask_nobody(server: LicenceServer) -> None:
    known = request(digital(activations=0))
    assert with_usage(store(server), known) is known
    bare = StoreContext(id="s", connector="woocommerce")
    assert providers_for(bare) == []
    assert with_usage(bare, request(digital())) == request(digital())
    assert server.seen == []


class _Failing(UsageProvider):
    name = "failing"

    def activations(self, store: StoreContext, order_id: str, line: Line) -> int | None:
        raise RuntimeError("licence database locked")


class _Fixed(UsageProvider):
    name = "fixed"

    def activations(self, store: StoreContext, order_id: str, line: Line) -> int | None:
        return 4


def test_a_failing_provider_is_passed_over_for_the_next() -> None:
    bare = StoreContext(id="s", connector="woocommerce")
    assert with_usage(bare, request(digital()), [_Failing()]).lines[0].usage is None
    merged = with_usage(bare, request(digital()), [_Failing(), _Fixed()])
    assert merged.lines[0].usage == DigitalUsage(activations=4)


def test_a_provider_no_package_provides_leaves_activations_unknown() -> None:
    missing = StoreContext(id="s", connector="woocommerce", settings={"usage_providers": ["nonesuch"]})
    assert providers_for(missing) == []
