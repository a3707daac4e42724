"""What never reaches the audit trail or the logs: secrets and personal data, recognised by what
they are — the names of the fields that hold them, and the shapes of known credentials — not by
digit patterns (a Shopify gid or an order number is an id a merchant reconciles by).
"""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(
    r"(secret|token|password|passwd|api[_-]?key|authorization|signature|hmac|credential|cookie|private[_-]?key)", re.I
)
PERSONAL_KEY = re.compile(
    r"^(e-?mail|email_address|phone|phone_number|mobile|first_?name|last_?name|full_?name|customer_?name|"
    r"billing|shipping_address|billing_address|address[12]?|street|postcode|post_code|zip|postal_code|"
    r"birth_?date|date_of_birth|ip|ip_address|card_?number|pan|cvc|cvv|iban)$",
    re.I,
)
# credentials by their documented shapes: Stripe, Shopify, WooCommerce, PayPal/OAuth bearer, basic auth
CREDENTIAL = re.compile(
    r"(?:\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{8,}"
    r"|\bwhsec_[0-9A-Za-z+/=]{8,}"
    r"|\bshp(?:at|ca|pa|ss)_[0-9a-fA-F]{16,}"
    r"|\b(?:ck|cs)_[0-9a-f]{30,}"
    r"|\bBearer\s+[0-9A-Za-z._~+/=-]{8,}"
    r"|\bBasic\s+[0-9A-Za-z+/=]{8,}"
    r"|(?<=://)[^/@\s:]+:[^/@\s]+(?=@))"
)
ID_KEY = re.compile(r"(^id$|_id$|_ids$|^ref$|_ref$|reference$|^key$|_key$)", re.I)  # ids stay exact
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
DIGITS = re.compile(r"(?<![/\w])\d{13,19}(?![\w])")


def luhn_valid(digits: str) -> bool:
    """A card number passes the Luhn check; most ids do not (and gids are not bare digits)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def scrub_text(text: str) -> str:
    """A free-text message with credentials, e-mail addresses and card numbers masked."""
    text = CREDENTIAL.sub("[secret]", text)
    text = EMAIL.sub("[email]", text)
    return DIGITS.sub(lambda m: "[number]" if luhn_valid(m.group(0)) else m.group(0), text)


def scrub(value: Any) -> Any:
    """A structured value (audit detail) with secret and personal fields replaced, texts scrubbed."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if SECRET_KEY.search(name):
                out[key] = "[scrubbed]"
            elif PERSONAL_KEY.match(name) and item is not None:
                out[key] = "[personal]"
            elif ID_KEY.search(name) and isinstance(item, str | int):
                out[key] = item
            else:
                out[key] = scrub(item)
        return out
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
