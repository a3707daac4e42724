"""The hub checks ``Stripe-Signature`` itself (web processes do not import the SDK): for every
header here, it must accept exactly what the SDK's ``WebhookSignature.verify_header`` accepts."""

from __future__ import annotations

import time

import pytest
import stripe

from gateways.stripe.webhooks import verify_signature
from hub.errors import SignatureInvalid
from hub.testing.signing import hmac_hex, inbound

SECRET = "whsec_parity_secret"
OTHER = "whsec_some_other_secret"
BODY = b'{"id": "evt_1", "type": "charge.refund.updated", "note": "caf\xc3\xa9"}'


def _v1(secret: str, stamp: int, body: bytes = BODY) -> str:
    return hmac_hex(secret, f"{stamp}.".encode() + body)


NOW = int(time.time())
HEADERS = {
    "valid": f"t={NOW},v1={_v1(SECRET, NOW)}",
    "valid among several v1 (rolling secrets)": f"t={NOW},v1={_v1(OTHER, NOW)},v1={_v1(SECRET, NOW)}",
    "valid with a v0 item": f"t={NOW},v0=deadbeef,v1={_v1(SECRET, NOW)}",
    "other secret": f"t={NOW},v1={_v1(OTHER, NOW)}",
    "signature of another timestamp": f"t={NOW},v1={_v1(SECRET, NOW - 1)}",
    "expired": f"t={NOW - 600},v1={_v1(SECRET, NOW - 600)}",
    "no timestamp": f"v1={_v1(SECRET, NOW)}",
    "unreadable timestamp": f"t=yesterday,v1={_v1(SECRET, NOW)}",
    "only v0": f"t={NOW},v0={_v1(SECRET, NOW)}",
    "spaces after commas": f"t={NOW}, v1={_v1(SECRET, NOW)}",
    "upper-case hex": f"t={NOW},v1={_v1(SECRET, NOW).upper()}",
    "garbage": "not a stripe header",
    "non-ASCII signature": f"t={NOW},v1=ü{_v1(SECRET, NOW)[1:]}",
}


def _sdk_accepts(header: str) -> bool:
    try:
        stripe.WebhookSignature.verify_header(BODY, header, SECRET, 300)
    except stripe.SignatureVerificationError:
        return False
    except TypeError:  # the SDK's compare_digest refuses non-ASCII text: not accepted either
        return False
    return True


def _hub_accepts(header: str) -> bool:
    try:
        verify_signature(inbound(BODY, {"Stripe-Signature": header}), [SECRET], 300)
    except SignatureInvalid:
        return False
    return True


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_the_hub_and_the_sdk_agree(case: str) -> None:
    header = HEADERS[case]
    assert _hub_accepts(header) == _sdk_accepts(header), case


def test_the_cases_include_both_verdicts() -> None:
    verdicts = {_sdk_accepts(header) for header in HEADERS.values()}
    assert verdicts == {True, False}


def test_a_body_that_is_not_utf8_is_refused_in_words() -> None:
    body = b"\xff"
    header = f"t={NOW},v1={_v1(SECRET, NOW, body)}"
    with pytest.raises(SignatureInvalid, match="UTF-8"):
        verify_signature(inbound(body, {"Stripe-Signature": header}), [SECRET], 300)
