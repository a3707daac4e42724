"""Verification of WooCommerce deliveries: secrets per store, the ping, store ids, dedupe keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim.hooks import php_json
from connectors.woocommerce.verify import UNKNOWN_STORE, signature, store_id_for
from hub.contracts import Inbound
from hub.errors import SignatureInvalid, UnsupportedMediaType
from hub.testing import hmac_base64, inbound

Signed = Callable[..., Inbound]
Load = Callable[[str], Any]


def test_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":727}'
    assert signature(body, "abc") == hmac_base64("abc", body)


def test_secret_is_html_entity_decoded_before_signing_like_wordpress() -> None:
    body = b"{}"
    assert signature(body, "a&amp;b&#039;c") == hmac_base64("a&b'c", body)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://example.com/", "https://example.com"),
        ("https://Example.COM:443/", "https://example.com"),
        ("https://example.com:8443/shop/", "https://example.com:8443/shop"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("https://example.com/?page=1", "https://example.com"),
    ],
)
def test_store_id_is_the_normalized_home_url(source: str, expected: str) -> None:
    assert store_id_for(source) == expected


def test_authentic_order_delivery(docs_connector: WooCommerceConnector, signed: Signed, fixture_json: Load) -> None:
    verified = docs_connector.verify(signed(fixture_json("rest_v3_get_order_response.json")))
    assert (verified.store_id, verified.topic, verified.ack_only) == ("https://example.com", "order.updated", False)
    assert verified.dedupe_key == "https://example.com|order.updated|727|2017-03-22T19:28:08|"


def test_body_as_wordpress_encodes_it_verifies_and_parses(
    docs_connector: WooCommerceConnector, signed: Signed, fixture_json: Load, notices_of: Callable[..., Any]
) -> None:
    raw = php_json(fixture_json("rest_v3_list_orders_response.json")[1])
    assert b"https:\\/\\/example.com" in raw and b"Jo\\u00e3o" in raw
    notices = notices_of(signed(raw))
    assert [n.source_ref for n in notices] == ["refund:726", "refund:724"]


def test_previous_secret_still_verifies(docs_connector: WooCommerceConnector, signed: Signed) -> None:
    assert docs_connector.verify(signed({"id": 1}, secret="oldSecret42")).store_id == "https://example.com"


def test_tampered_body_is_refused(docs_connector: WooCommerceConnector, signed: Signed, fixture_json: Load) -> None:
    order = fixture_json("rest_v3_get_order_response.json")
    good = signed(order)
    forged = json.dumps({**order, "transaction_id": "ch_attacker"}).encode()
    with pytest.raises(SignatureInvalid):
        docs_connector.verify(Inbound(headers=good.headers, body=forged, content_type="application/json"))


def test_unknown_source_is_refused(docs_connector: WooCommerceConnector, signed: Signed) -> None:
    with pytest.raises(SignatureInvalid, match="no installed store"):
        docs_connector.verify(signed({"id": 1}, source="https://other.example/"))


def test_store_query_names_the_store_when_the_home_url_changed(
    docs_connector: WooCommerceConnector, signed: Signed
) -> None:
    item = signed({"id": 1}, source="https://www.example.com/", query={"store": "https://example.com"})
    assert docs_connector.verify(item).store_id == "https://example.com"


def test_a_disabled_store_gets_nothing_verified(
    docs_connector: WooCommerceConnector, docs_stores: Any, signed: Signed
) -> None:
    docs_stores.disable("https://example.com")
    with pytest.raises(SignatureInvalid):
        docs_connector.verify(signed({"id": 1}))


def test_signed_body_that_is_not_json_type_is_415(docs_connector: WooCommerceConnector, signed: Signed) -> None:
    good = signed({"id": 1})
    with pytest.raises(UnsupportedMediaType):
        docs_connector.verify(Inbound(headers=good.headers, body=good.body, content_type="text/xml"))


def test_creation_ping_is_acknowledged_only(docs_connector: WooCommerceConnector) -> None:
    ping = inbound(
        b"webhook_id=12", content_type="application/x-www-form-urlencoded", query={"store": "https://example.com"}
    )
    verified = docs_connector.verify(ping)
    assert verified.ack_only and verified.topic == "ping"
    assert verified.store_id == "https://example.com"
    assert docs_connector.verify(ping).dedupe_key == verified.dedupe_key


def test_ping_without_a_known_store_is_still_acknowledged(docs_connector: WooCommerceConnector) -> None:
    verified = docs_connector.verify(inbound(b"webhook_id=12", content_type="application/x-www-form-urlencoded"))
    assert verified.ack_only and verified.store_id == UNKNOWN_STORE


@pytest.mark.parametrize("body", [b"webhook_id=", b"webhook_id=1&x=2", b'{"webhook_id": 1}', b""])
def test_anything_else_unsigned_is_refused(docs_connector: WooCommerceConnector, body: bytes) -> None:
    with pytest.raises(SignatureInvalid):
        docs_connector.verify(inbound(body, content_type="application/x-www-form-urlencoded"))


def test_dedupe_ignores_the_delivery_id_but_sees_new_refunds(
    docs_connector: WooCommerceConnector, signed: Signed, fixture_json: Load
) -> None:
    order = fixture_json("rest_v3_list_orders_response.json")[1]
    first, again = signed(order, delivery_id="a"), signed(order, delivery_id="b")
    assert docs_connector.verify(first).dedupe_key == docs_connector.verify(again).dedupe_key
    merged = {**order, "refunds": [{"id": 730, "reason": "", "total": "-1.00"}, *order["refunds"]]}
    key = docs_connector.verify(signed(merged)).dedupe_key
    assert key != docs_connector.verify(first).dedupe_key and key.endswith("|724,726,730")


def test_dedupe_of_actions(docs_connector: WooCommerceConnector, signed: Signed) -> None:
    created = {"action": "woocommerce_refund_created", "arg": 726}
    assert (
        docs_connector.verify(signed(created, "action.woocommerce_refund_created", delivery_id="a")).dedupe_key
        == docs_connector.verify(signed(created, "action.woocommerce_refund_created", delivery_id="b")).dedupe_key
    )
    refunded = {"action": "woocommerce_order_refunded", "arg": 723}
    # the order id repeats for every later refund of the order: the per-second delivery id tells them apart
    assert (
        docs_connector.verify(signed(refunded, "action.woocommerce_order_refunded", delivery_id="a")).dedupe_key
        != docs_connector.verify(signed(refunded, "action.woocommerce_order_refunded", delivery_id="b")).dedupe_key
    )


def test_authentic_but_unreadable_body_is_still_acknowledged(
    docs_connector: WooCommerceConnector, signed: Signed
) -> None:
    verified = docs_connector.verify(signed(b"<html>not json</html>"))
    assert "sha256:" in verified.dedupe_key


@pytest.mark.parametrize(
    ("stored", "decoded"),
    [
        # wp_specialchars_decode( $secret, ENT_QUOTES ): every entity of its table
        ("a&#034;b&#x22;c&quot;d", 'a"b"c"d'),
        ("a&#060;b&lt;c&#062;d&gt;e", "a<b<c>d>e"),
        ("a&#038;b&#x26;c&amp;d", "a&b&c&d"),
        ("a&#039;b&#x27;c", "a'b'c"),
        # its zero-padding rules (/&#0*39;/, /&#x0*27;/i ...) before the table
        ("&#39;&#0039;&#X27;&#x0027;&#34;&#x022;&#60;&#00062;&#38;&#X026;", "''''\"\"<>&&"),
        # one pass, like strtr: a decoded "&" never starts another entity
        ("&amp;lt;&#038;quot;&#x26;#039;", "&lt;&quot;&#039;"),
        # what the table does not hold stays as it is
        ("&apos;&#x3C;&#62x;&nbsp;&#x22", "&apos;&#x3C;&#62x;&nbsp;&#x22"),
    ],
)
def test_secret_decoding_is_wordpress_table(stored: str, decoded: str) -> None:
    body = b'{"id":1}'
    assert signature(body, stored) == hmac_base64(decoded, body)
