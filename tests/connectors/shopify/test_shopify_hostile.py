"""Hostile and type-confused bodies: verify checks the HMAC on the raw bytes before anything reads
them, and a signed body of the wrong shape becomes ``MalformedBody``/``ParseError``, never another
exception (deep nesting, 5 000-digit numbers, lone surrogates, lists for objects, every field of
every official fixture swapped for a value of the wrong type)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.shopify import ShopifyConnector
from hub.contracts import Notice
from hub.errors import MalformedBody, ParseError, SignatureInvalid
from hub.testing import inbound

from .conftest import delivery_of, fixture_body, signed
from .test_shopify_verify import WEBHOOKS

DEEP = "[" * 50_000 + "]" * 50_000
HUGE = "9" * 5_000
# raw JSON texts put where a fixture has a value (a lone surrogate must be written as an escape)
HOSTILE = [
    "null",
    "true",
    "0",
    "-1",
    "1.5",
    "1e400",
    HUGE,
    "-" + HUGE,
    '""',
    '"\\ud800"',
    '"x\\u0000y"',
    '"gid://shopify/Shop/1"',
    '"' + "a" * 2_000 + '"',
    "[]",
    "[{}]",
    '["\\udfff"]',
    "{}",
    '{"id": {"id": []}}',
    "[" * 3_000 + "]" * 3_000,
    "[" * 900 + "]" * 900,
]
NESTED = "{" + '"a":{' * 30_000 + "}" * 30_001
UNREADABLE = [
    DEEP,
    HUGE,
    "-" + HUGE,
    NESTED,
    '{"id": ' + HUGE + "}",
    "[1, 2]",
    '"text"',
    "null",
    "",
    "{",
    "\x00not json",
]
WHOLE = [*HOSTILE, *UNREADABLE, '{"id":"\\ud800"}', '{"id": {"id": []}}', '{"admin_graphql_api_id": []}']
TOPICS = sorted({t for t, _ in WEBHOOKS.values()})
ALLOWED = (SignatureInvalid, MalformedBody, ParseError)
_DIGITS = re.compile(r"^[0-9]+$")
_GID = re.compile(r"^gid://shopify/[A-Za-z]+/[0-9]+$")


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield (*path, index)
            yield from _paths(item, (*path, index))


def _template(body: Any, path: tuple[Any, ...]) -> str:
    """``body`` as JSON with a marker where the value at ``path`` was (see ``_put``)."""
    copy = json.loads(json.dumps(body))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = "\x00HOSTILE\x00"
    return json.dumps(copy)


def _put(template: str, raw: str) -> bytes:
    """The template with the raw JSON text ``raw`` at the marked place."""
    return template.replace('"\\u0000HOSTILE\\u0000"', raw).encode()


def _sane(notice: Notice) -> None:
    """What the hub stores from a notice can be stored: ids are ids, hints are plain UTF-8 JSON."""
    assert notice.order_id is None or _DIGITS.fullmatch(notice.order_id), notice.order_id
    assert notice.source_ref is None or _GID.fullmatch(notice.source_ref), notice.source_ref
    kept = json.dumps(dict(notice.hints), allow_nan=False)
    kept.encode("utf-8")  # no lone surrogate
    assert "\\u0000" not in kept  # no NUL (a database text column refuses it)
    for key in ("customer_id", "shop_id", "data_request_id", "refund_id"):
        value = notice.hints.get(key)
        assert value is None or _DIGITS.fullmatch(str(value)), (key, value)
    assert all(_DIGITS.fullmatch(o) for o in notice.hints.get("order_ids") or ())


def _through(connector: ShopifyConnector, body: bytes, topic: str) -> None:
    item = signed(body, topic)
    try:
        verified = connector.verify(item)
        notices = connector.parse(delivery_of(item, verified))
    except ALLOWED:
        return
    for notice in notices:
        _sane(notice)


@pytest.mark.parametrize("raw", WHOLE, ids=lambda raw: raw[:24])
def test_unsigned_hostile_body_is_refused_before_it_is_read(offline_connector: ShopifyConnector, raw: str) -> None:
    """The signature is checked on the raw bytes first: nothing unauthenticated is parsed."""
    good = signed(fixture_body("webhook_refunds_create.json"), "refunds/create")
    with pytest.raises(SignatureInvalid):
        offline_connector.verify(inbound(raw.encode(), dict(good.headers)))


@pytest.mark.parametrize("raw", UNREADABLE, ids=lambda raw: raw[:24])
@pytest.mark.parametrize("topic", TOPICS)
def test_signed_unreadable_body_is_a_parse_error(offline_connector: ShopifyConnector, raw: str, topic: str) -> None:
    item = signed(raw.encode(), topic)
    verified = offline_connector.verify(item)
    with pytest.raises(ParseError):
        offline_connector.parse(delivery_of(item, verified))


@pytest.mark.parametrize("topic", TOPICS)
def test_signed_hostile_whole_bodies(offline_connector: ShopifyConnector, topic: str) -> None:
    for raw in WHOLE:
        _through(offline_connector, raw.encode(), topic)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_every_fixture_field_of_the_wrong_type(offline_connector: ShopifyConnector, name: str) -> None:
    topic, _ = WEBHOOKS[name]
    body = json.loads(fixture_body(name))
    for path in _paths(body):
        template = _template(body, path)
        for raw in HOSTILE:
            _through(offline_connector, _put(template, raw), topic)


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_every_fixture_under_every_topic(offline_connector: ShopifyConnector, name: str) -> None:
    """A signed body of one topic replayed under another topic header never crashes the parser."""
    for topic in TOPICS:
        _through(offline_connector, fixture_body(name), topic)
