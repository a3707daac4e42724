"""Store credit in the simulated shops: ``storeCreditAccountCredit`` (the owner a Customer gid:
an account is opened per currency, as Shopify does) and ``customer { storeCreditAccounts }``
with each account's transactions, newest first when asked ``reverse: true``.

``lose_answers`` makes the next credit land but lose its answer (a reset connection), the case
the hub's look-before-crediting-again is for; ``credits`` counts the mutations applied.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim.state import SimCall
from hub.sandbox.simserver import reset_connection

if TYPE_CHECKING:
    from connectors.shopify.sim.graphql import RootField
    from connectors.shopify.sim.server import ShopifySimulator
    from connectors.shopify.sim.state import SimShop

_IDS = itertools.count(9_000_001)


@dataclass
class Account:
    id: str
    currency: str
    balance: Decimal = Decimal("0")
    transactions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StoreCredit:
    accounts: dict[tuple[str, str, str], Account] = field(default_factory=dict)  # (shop, owner, currency)
    credits: int = 0
    lose_answers: int = 0

    def of(self, domain: str, owner: str) -> list[Account]:
        return [a for (d, o, _), a in self.accounts.items() if (d, o) == (domain, owner)]


def store_credit(sim: ShopifySimulator) -> StoreCredit:
    """The simulator's store credit ledger (made on first use)."""
    found = sim.__dict__.get("store_credit")
    if found is None:
        found = sim.__dict__["store_credit"] = StoreCredit()
    return found  # type: ignore[no-any-return]


def credit_account(sim: ShopifySimulator, shop: SimShop, field_: RootField, args: dict[str, Any]) -> Any:
    owner = str(args.get("id") or "")
    given = (args.get("creditInput") or {}).get("creditAmount") or {}
    ledger = store_credit(sim)
    sim.calls.append(SimCall(shop.domain, "storeCreditAccountCredit", dict(args)))
    if not owner.startswith("gid://shopify/Customer/") or not given.get("amount"):
        return {
            "storeCreditAccountTransaction": None,
            "userErrors": [{"field": ["id"], "message": "Owner does not exist", "code": "OWNER_NOT_FOUND"}],
        }
    currency = str(given.get("currencyCode") or shop.currency)
    key = (shop.domain, owner, currency)
    account = ledger.accounts.get(key) or Account(f"gid://shopify/StoreCreditAccount/{next(_IDS)}", currency)
    ledger.accounts[key] = account
    amount = Decimal(str(given["amount"]))
    account.balance += amount
    made = {
        "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{next(_IDS)}",
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "amount": {"amount": f"{amount:.2f}", "currencyCode": currency},
    }
    account.transactions.append(made)
    ledger.credits += 1
    if ledger.lose_answers > 0:
        ledger.lose_answers -= 1
        reset_connection()
    return {"storeCreditAccountTransaction": {**made, "account": {"id": account.id}}, "userErrors": []}


def customer(sim: ShopifySimulator, shop: SimShop, field_: RootField, args: dict[str, Any]) -> Any:
    owner = str(args.get("id") or "")
    accounts = store_credit(sim).of(shop.domain, owner)
    return {
        "id": owner,
        "storeCreditAccounts": {
            "nodes": [
                {
                    "id": a.id,
                    "balance": {"amount": f"{a.balance:.2f}", "currencyCode": a.currency},
                    "transactions": {"nodes": list(reversed(a.transactions))},
                }
                for a in accounts
            ]
        },
    }
