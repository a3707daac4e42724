"""Gift cards in the simulated shops: ``giftCardCreate`` (the code 8-20 letters and digits, unique
per shop whatever its case: ``TAKEN`` otherwise; a random 16-character one when none is given;
``giftCardCode`` answered once, at creation) and ``giftCards(query:)`` searching by code, Shopify's
default search field for gift cards. Both need their scope (``write_gift_cards`` /
``read_gift_cards``).

``lose_answers`` makes the next card be made but its answer lost (a reset connection); ``creates``
counts the cards made.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim.state import SimCall
from hub.sandbox.simserver import reset_connection

if TYPE_CHECKING:
    from connectors.shopify.sim.graphql import RootField
    from connectors.shopify.sim.server import ShopifySimulator
    from connectors.shopify.sim.state import SimShop

_IDS = itertools.count(7_000_001)
_CODE = re.compile(r"^[A-Za-z0-9]{8,20}$")


@dataclass
class GiftCards:
    cards: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (shop, code lower-cased)
    creates: int = 0
    lose_answers: int = 0

    def of(self, domain: str) -> list[dict[str, Any]]:
        return [card for (shop, _), card in self.cards.items() if shop == domain]


def gift_cards(sim: ShopifySimulator) -> GiftCards:
    """The simulator's gift cards (made on first use)."""
    found = sim.__dict__.get("gift_cards")
    if found is None:
        found = sim.__dict__["gift_cards"] = GiftCards()
    return found  # type: ignore[no-any-return]


def _error(field_: list[str], message: str, code: str) -> dict[str, Any]:
    return {"giftCard": None, "giftCardCode": None, "userErrors": [{"field": field_, "message": message, "code": code}]}


def _denied(sim: ShopifySimulator, what: str, scope: str) -> None:
    from connectors.shopify.sim.graphql import _access_denied

    sim.field_errors.append(_access_denied(what, scope))


def create(sim: ShopifySimulator, shop: SimShop, field_: RootField, args: dict[str, Any]) -> Any:
    if "write_gift_cards" not in shop.scopes:
        _denied(sim, "giftCardCreate", "write_gift_cards")
        return None
    given = args.get("input") or {}
    sim.calls.append(SimCall(shop.domain, "giftCardCreate", dict(given)))
    try:
        value = Decimal(str(given.get("initialValue")))
    except InvalidOperation:
        return _error(["input", "initialValue"], "Initial value is invalid", "INVALID")
    if value <= 0:
        return _error(["input", "initialValue"], "Initial value must be greater than 0", "GREATER_THAN")
    code = str(given.get("code") or "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(16)))
    if not _CODE.match(code):
        return _error(["input", "code"], "Code must be 8-20 letters and numbers", "INVALID")
    book = gift_cards(sim)
    if (shop.domain, code.lower()) in book.cards:
        return _error(["input", "code"], "Code has already been taken", "TAKEN")
    card = {
        "id": f"gid://shopify/GiftCard/{next(_IDS)}",
        "lastCharacters": code[-4:],
        "note": given.get("note"),
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "initialValue": {"amount": f"{value:.2f}", "currencyCode": shop.currency},
        "balance": {"amount": f"{value:.2f}", "currencyCode": shop.currency},
        "customer": {"id": given["customerId"]} if given.get("customerId") else None,
        "enabled": True,
    }
    book.cards[(shop.domain, code.lower())] = card
    book.creates += 1
    if book.lose_answers > 0:
        book.lose_answers -= 1
        reset_connection()
    return {"giftCard": card, "giftCardCode": code, "userErrors": []}


def search(sim: ShopifySimulator, shop: SimShop, field_: RootField, args: dict[str, Any]) -> Any:
    if "read_gift_cards" not in shop.scopes:
        _denied(sim, "giftCards", "read_gift_cards")
        return None
    wanted = str(args.get("query") or "").strip().lower()
    book = gift_cards(sim)
    nodes = [card for (domain, code), card in book.cards.items() if domain == shop.domain and wanted in code]
    first = int(args.get("first") or 50)
    return {"nodes": nodes[:first]}
