"""Scrubbing by knowing what secrets and personal data are, not by digit patterns."""

from __future__ import annotations

import logging

from hub.ledger.scrub import luhn_valid, scrub, scrub_text
from hub.runtime.logs import JsonFormatter


def test_ids_a_merchant_reconciles_by_are_kept() -> None:
    detail = {
        "gateway_refund_id": "gid://shopify/Refund/5123456789012345",
        "order_id": "4242424242424242",  # an id field keeps its value, whatever its digits
        "source_ref": "gid://shopify/OrderTransaction/1234567890123",
        "note": "order 1234567890123 refunded",  # not a card number (fails the Luhn check)
    }
    assert scrub(detail) == detail


def test_secret_and_personal_fields_are_replaced() -> None:
    detail = {
        "api_key": "sk_live_abc",
        "access_token": "shpat_x",
        "customer": {"email": "ana@example.com", "phone": "+49 30 1234", "first_name": "Ana", "id": "c-1"},
        "lines": [{"sku": "TEE-1", "title": "Tee"}],
    }
    assert scrub(detail) == {
        "api_key": "[scrubbed]",
        "access_token": "[scrubbed]",
        "customer": {"email": "[personal]", "phone": "[personal]", "first_name": "[personal]", "id": "c-1"},
        "lines": [{"sku": "TEE-1", "title": "Tee"}],
    }


def test_credentials_emails_and_card_numbers_in_text_are_masked() -> None:
    text = (
        "POST https://user:pa55@shop.example/wp-json failed with Bearer eyJhbGciOiJIUzI1NiJ9.x.y "
        "key sk_live_51HxyzABCDEF012345 shopify shpat_0123456789abcdef0123 customer ana@example.com "
        "card 4242424242424242 order 1234567890123"
    )
    masked = scrub_text(text)
    for leaked in ("pa55", "eyJhbGci", "sk_live_51", "shpat_0123", "ana@example.com", "4242424242424242"):
        assert leaked not in masked
    assert "1234567890123" in masked


def test_luhn() -> None:
    assert luhn_valid("4242424242424242")
    assert luhn_valid("5555555555554444")
    assert not luhn_valid("4242424242424241")


def test_log_lines_and_tracebacks_are_scrubbed() -> None:
    formatter = JsonFormatter()
    try:
        raise RuntimeError("token Bearer abcdefghijklmnop rejected for bob@example.org")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "card %s", ("4242424242424242",), sys.exc_info())
    line = formatter.format(record)
    assert "4242424242424242" not in line
    assert "abcdefghijklmnop" not in line
    assert "bob@example.org" not in line
