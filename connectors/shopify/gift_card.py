"""An accepted alternative issued on Shopify as a gift card (``giftCardCreate``), for stores that
set ``store_credit_as = "gift_card"`` — a guest order has no customer account to hold store
credit, and some shops prefer a card the customer can pass on.

The card is not assigned to a customer (assigning needs the customer write scope the hub does not
ask for); its code reaches the customer through the hub's own notice and status page. Shopify
takes no idempotency key for it, but it keeps codes unique: the hub picks the code itself, notes
it in the store's state before the call, and a retry sends the same code — ``TAKEN`` then means the
first attempt landed (the card is read back by a search on its code, Shopify's default search
field for gift cards), never a second card.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from connectors.shopify.client import AdminClient
from hub.contracts import CreditIssue, CreditResult, Outcome, StoreContext, StoreDirectory
from hub.models.money import format_decimal, to_minor

GIFT_CARD_CREATE = """
mutation giftCard($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) {
    giftCard { id lastCharacters note createdAt initialValue { amount currencyCode } }
    giftCardCode
    userErrors { field message code }
  }
}
"""
GIFT_CARDS_BY_CODE = """
query giftCards($query: String!) {
  giftCards(first: 5, query: $query) {
    nodes { id lastCharacters note createdAt initialValue { amount currencyCode } }
  }
}
"""
CODE_STATE = "gift_card_code:"
CODE_ALPHABET = string.ascii_lowercase + string.digits  # Shopify: 8-20 letters and digits, any case
CODE_LENGTH = 16


def issue_gift_card(
    client: AdminClient, stores: StoreDirectory, store: StoreContext, credit: CreditIssue
) -> CreditResult:
    """Issue the credit as a gift card, once however often it is retried (``PlatformError``s rise)."""
    code = stores.get_state(store.id, CODE_STATE + credit.key)
    if code is None:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        stores.set_state(store.id, CODE_STATE + credit.key, code, ttl=30 * 86400)
    note = f"{credit.note} [{credit.key}]"[:255]
    given = {"initialValue": format_decimal(credit.amount, credit.currency), "code": code, "note": note}
    payload = client.read(GIFT_CARD_CREATE, {"input": given}).get("giftCardCreate") or {}
    errors = payload.get("userErrors") or []
    if any(e.get("code") == "TAKEN" and "code" in (e.get("field") or ()) for e in errors):
        found = _made_earlier(client, code, credit)  # the first attempt landed, its answer did not
        if found is None:
            return CreditResult(Outcome.UNKNOWN, message=f"gift card code of {credit.key} taken, the card not found")
        return CreditResult(Outcome.SUCCEEDED, reference=found, code=code, kind="gift_card")
    if errors:
        return CreditResult(Outcome.FAILED, message="; ".join(str(e.get("message")) for e in errors)[:500])
    card = payload.get("giftCard") or {}
    return CreditResult(
        Outcome.SUCCEEDED, reference=card.get("id"), code=payload.get("giftCardCode") or code, kind="gift_card"
    )


def _made_earlier(client: AdminClient, code: str, credit: CreditIssue) -> str | None:
    """The card an earlier attempt made, searched by its code: its last characters, the credit's
    key in its note and its value must match too."""
    data = client.read(GIFT_CARDS_BY_CODE, {"query": code})
    for card in ((data.get("giftCards") or {}).get("nodes")) or ():
        if (
            str(card.get("lastCharacters") or "").lower() == code[-4:]
            and credit.key in str(card.get("note") or "")
            and _worth(card.get("initialValue") or {}, credit)
        ):
            return str(card["id"])
    return None


def _worth(amount: Mapping[str, Any], credit: CreditIssue) -> bool:
    currency = str(amount.get("currencyCode") or credit.currency)
    return to_minor(str(amount.get("amount") or "0"), currency) == credit.amount
