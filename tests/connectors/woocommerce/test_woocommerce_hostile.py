"""Hostile bodies, signed and unsigned, built from the official fixtures: whatever arrives, verify
and parse answer with ``SignatureInvalid``/``MalformedBody`` (or a ``Verified``) and ``ParseError``
(or notices), never with an exception the web layer or the worker did not expect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.verify import signature
from hub.contracts import Inbound, Notice
from hub.errors import MalformedBody, ParseError, SignatureInvalid
from hub.testing import inbound
from hub.testing.stores import MemoryStores

from .conftest import FIXTURES, SECRET, SHOP, as_delivery

RETURN_ACTION = "action.wc_return_requested"
BIG_INT = "9" * 5000  # over Python's 4 300-digit int conversion limit
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than any recursion limit
NEAR_LIMIT = "[" * 950 + "]" * 950  # parses, but recursing over it again may not
LONE_SURROGATE = '"\\ud800"'
# raw JSON texts put where a value was
HOSTILE = (
    "[]",
    "{}",
    '""',
    '"x"',
    "0",
    "-1",
    "1e999",
    "-0.5",
    "true",
    "null",
    BIG_INT,
    DEEP,
    NEAR_LIMIT,
    LONE_SURROGATE,
    '{"id": "\\udfff", "\\ud800": [1]}',
    '[{"id": []}]',
    '{"id": {"id": {}}}',
    '"726"',
    '"-726"',
    '"wc-refund-requested"',
)
# whole bodies
BODIES = (
    *(raw.encode() for raw in HOSTILE),
    b"",
    b"   ",
    b'{"id":',
    b"\xff\xfe\x00",
    b'{"id": 1}{"id": 2}',
    b"webhook_id=" + BIG_INT.encode(),
    b'{"action": "woocommerce_refund_created", "arg": ' + BIG_INT.encode() + b"}",
    b'{"action": ' + DEEP.encode() + b"}",
)
MARK = "__hostile__"


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> Iterator[tuple[Any, ...]]:
    """Every key of every object and the first element of every list, down to depth 3."""
    if depth > 3:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key), depth + 1)
    elif isinstance(value, list) and value:
        yield (*prefix, 0)
        yield from _paths(value[0], (*prefix, 0), depth + 1)


def _with(value: Any, path: tuple[Any, ...], raw: str) -> bytes:
    """``value`` as JSON with the value at ``path`` replaced by the raw JSON text ``raw``."""
    copy = json.loads(json.dumps(value))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = MARK
    return json.dumps(copy).replace(json.dumps(MARK), raw).encode()


def _bases() -> Iterator[tuple[str, Any]]:
    def load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text())

    yield "order.updated", load("rest_v3_get_order_response.json")
    yield "order.updated", {**load("rest_v3_list_orders_response.json")[1], "status": "refund-requested"}
    yield "order.updated", load("rest_v3_create_refund_response.json")
    yield "order.updated", load("rest_v3_list_refunds_response.json")[0]
    yield "action.woocommerce_refund_created", {"action": "woocommerce_refund_created", "arg": 726}
    yield "action.woocommerce_order_refunded", {"action": "woocommerce_order_refunded", "arg": 723}
    yield RETURN_ACTION, {"action": "wc_return_requested", "arg": {"order_id": 723}}


def mutations() -> Iterator[tuple[str, bytes]]:
    for topic, base in _bases():
        for body in BODIES:
            yield topic, body
        for path in _paths(base):
            for raw in HOSTILE:
                yield topic, _with(base, path, raw)


@pytest.fixture
def hostile_connector() -> WooCommerceConnector:
    stores = MemoryStores("woocommerce")
    stores.add(
        SHOP, settings={"url": SHOP, "refund_request_action": RETURN_ACTION}, credentials={"webhook_secret": SECRET}
    )
    return WooCommerceConnector({"app_url": "https://hub.example"}, stores)


def _headers(body: bytes, topic: str, *, signed: bool, source: str = f"{SHOP}/") -> dict[str, str]:
    headers = {"X-WC-Webhook-Source": source, "X-WC-Webhook-Topic": topic, "X-WC-Webhook-ID": "3"}
    if signed:
        headers["X-WC-Webhook-Signature"] = signature(body, SECRET)
    return headers


def _verify_and_parse(connector: WooCommerceConnector, item: Inbound) -> list[Notice] | None:
    """What the web layer and then the worker would do; only the documented errors may leave."""
    try:
        verified = connector.verify(item)
    except (SignatureInvalid, MalformedBody):
        return None
    assert verified.store_id and verified.topic and verified.dedupe_key
    json.dumps([verified.store_id, verified.topic, verified.dedupe_key])  # storable as the hub stores it
    if verified.ack_only:
        return None
    try:
        notices = connector.parse(as_delivery(connector, item, verified))
    except ParseError:
        return None
    for notice in notices:
        assert notice.kind in ("recorded", "requested", "ignored") and notice.store_id == SHOP
        for text in (notice.topic, notice.order_id, notice.source_ref, *map(str, notice.hints.values())):
            (text or "").encode("utf-8")  # no lone surrogate reaches the ledger
    return notices


def test_hostile_bodies_never_escape_verify_or_parse(hostile_connector: WooCommerceConnector) -> None:
    seen = 0
    for topic, body in mutations():
        seen += 1
        unsigned = inbound(body, _headers(body, topic, signed=False))
        with pytest.raises(SignatureInvalid):
            hostile_connector.verify(unsigned)
        _verify_and_parse(hostile_connector, inbound(body, _headers(body, topic, signed=True)))
    assert seen > 2000


@pytest.mark.parametrize(
    "source",
    ["https://example.com:99999/", "https://[::1/", "http://[zz]/", "\ud800", "https://exa mple.com/", "//", ""],
)
def test_hostile_source_headers_are_refused_not_raised(hostile_connector: WooCommerceConnector, source: str) -> None:
    body = b'{"id": 1}'
    for query in ({}, {"store": source}, {"store": SHOP}):
        item = inbound(body, _headers(body, "order.updated", signed=True, source=source), query=query)
        try:
            hostile_connector.verify(item)
        except SignatureInvalid:
            pass


@pytest.mark.parametrize("body", [b"webhook_id=1", b"webhook_id=99999999999999999999"])
def test_hostile_ping_queries_are_acknowledged_not_raised(hostile_connector: WooCommerceConnector, body: bytes) -> None:
    for store in ("https://example.com:99999", "\ud800", "", SHOP, "x" * 10_000):
        verified = hostile_connector.verify(
            inbound(body, content_type="application/x-www-form-urlencoded", query={"store": store})
        )
        assert verified.ack_only


def test_the_fixture_bodies_themselves_still_give_notices(hostile_connector: WooCommerceConnector) -> None:
    found: list[Notice] = []
    for topic, base in _bases():
        body = json.dumps(base).encode()
        found.extend(_verify_and_parse(hostile_connector, inbound(body, _headers(body, topic, signed=True))) or [])
    kinds = {n.kind for n in found}
    assert {"recorded", "requested"} <= kinds
