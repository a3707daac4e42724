"""Signatures checked against the Standard Webhooks spec's own known-answer vector and the cases
its reference libraries test (standard-webhooks/standard-webhooks, libraries/*/tests)."""

from __future__ import annotations

import pytest

from hub.outgoing.signing import SignatureError, headers, new_secret, secret_bytes, sign, verify

# the spec libraries' vector (Python test_sign_function, Go TestWebhookSign, JavaScript webhook.test.ts)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
WRONG = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="


def received(signature: str = EXPECTED, **changes: str) -> dict[str, str]:
    found = {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": signature}
    found.update(changes)
    return found


def test_the_spec_vector_signs_to_the_expected_signature() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, PAYLOAD) == EXPECTED


def test_a_secret_without_its_prefix_signs_the_same() -> None:
    assert sign(SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, PAYLOAD) == EXPECTED


def test_the_spec_vector_verifies_and_a_wrong_signature_does_not() -> None:
    assert verify(SECRET, received(), PAYLOAD, now=TIMESTAMP)
    assert not verify(SECRET, received("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), PAYLOAD, now=TIMESTAMP)
    assert not verify(SECRET, received(WRONG), PAYLOAD, now=TIMESTAMP)


def test_one_changed_byte_of_the_body_fails() -> None:
    assert not verify(SECRET, received(), b'{"test": 2432232315}', now=TIMESTAMP)


def test_any_matching_v1_entry_among_several_verifies() -> None:
    several = " ".join([WRONG, WRONG.replace("v1,", "v2,"), EXPECTED, WRONG])
    assert verify(SECRET, received(several), PAYLOAD, now=TIMESTAMP)


@pytest.mark.parametrize("signature", ["v1,", "v1,dawfeoifkpqwoekfpqoekf", EXPECTED.removeprefix("v1,")])
def test_empty_garbage_and_unversioned_signatures_fail(signature: str) -> None:
    assert not verify(SECRET, received(signature), PAYLOAD, now=TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_fails(missing: str) -> None:
    headers_ = received()
    del headers_[missing]
    assert not verify(SECRET, headers_, PAYLOAD, now=TIMESTAMP)


def test_timestamps_outside_five_minutes_fail() -> None:
    assert verify(SECRET, received(), PAYLOAD, now=TIMESTAMP + 300)
    assert not verify(SECRET, received(), PAYLOAD, now=TIMESTAMP + 301)
    assert not verify(SECRET, received(), PAYLOAD, now=TIMESTAMP - 301)
    assert not verify(SECRET, received(**{"webhook-timestamp": "hello"}), PAYLOAD, now=TIMESTAMP)


def test_rotation_signs_with_each_secret_and_either_verifies() -> None:
    new = new_secret()
    sent = headers([new, SECRET], MSG_ID, TIMESTAMP, PAYLOAD)
    assert sent["webhook-signature"].split(" ") == [sign(new, MSG_ID, TIMESTAMP, PAYLOAD), EXPECTED]
    assert verify(SECRET, sent, PAYLOAD, now=TIMESTAMP)
    assert verify(new, sent, PAYLOAD, now=TIMESTAMP)
    assert not verify(new_secret(), sent, PAYLOAD, now=TIMESTAMP)


def test_new_secrets_are_whsec_with_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(secret_bytes(first)) == 32


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!"])
def test_a_secret_that_cannot_sign_is_refused(bad: str) -> None:
    with pytest.raises(SignatureError):
        secret_bytes(bad)
