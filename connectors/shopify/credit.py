"""An accepted alternative issued on Shopify: store credit on the customer's account
(``storeCreditAccountCredit`` with the customer as owner: Shopify opens an account per currency),
Shopify e-mailing the customer (``notify``) — or, where the store sets ``store_credit_as =
"gift_card"``, a gift card (``connectors/shopify/gift_card.py``).

``storeCreditAccountCredit`` takes no idempotency key, so the hub keeps its own: before the call
it notes in the store's state that the credit is being sent (with the time), and after a lost
answer the next attempt reads the account's credits since then for one of the same amount before
crediting again. A credit found that way, or a marker with no credit behind it, is never a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.shopify.client import AdminClient
from connectors.shopify.settings import AppSettings
from connectors.shopify.transformers import gid
from hub.contracts import CreditIssue, CreditResult, Outcome, StoreContext, StoreDirectory
from hub.errors import PlatformError, PlatformUnavailable
from hub.models.money import format_decimal, to_minor

CREDIT = """
mutation credit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { id amount { amount currencyCode } account { id } }
    userErrors { field message code }
  }
}
"""
CREDITS_SINCE = """
query credits($id: ID!) {
  customer(id: $id) {
    storeCreditAccounts(first: 10) {
      nodes { id balance { amount currencyCode }
        transactions(first: 50, reverse: true) { nodes { id createdAt amount { amount currencyCode } } } }
    }
  }
}
"""
MARKER = "store_credit_sending:"


def issue_credit(app: AppSettings, stores: StoreDirectory, store: StoreContext, credit: CreditIssue) -> CreditResult:
    if store.settings.get("store_credit_as") == "gift_card":
        return _as_gift_card(app, stores, store, credit)
    if not credit.customer_id:
        return CreditResult(
            Outcome.FAILED,
            message='a guest order has no customer account to credit (store_credit_as = "gift_card": a gift card)',
        )
    owner = gid("Customer", credit.customer_id)
    marker = MARKER + credit.key
    try:
        with AdminClient(app, stores, store) as client:
            sent_at = stores.get_state(store.id, marker)
            if sent_at is not None:  # an earlier attempt was sent: did it land?
                found = _credited_since(client, owner, credit, sent_at)
                if found is not None:
                    return CreditResult(Outcome.SUCCEEDED, reference=found, kind="store_credit")
            stores.set_state(store.id, marker, datetime.now(UTC).isoformat(), ttl=30 * 86400)
            data = client.read(CREDIT, {"id": owner, "creditInput": _credit_input(credit)})
    except PlatformUnavailable as exc:
        return CreditResult(Outcome.UNKNOWN, message=str(exc))
    except PlatformError as exc:
        return CreditResult(Outcome.FAILED, message=str(exc))
    payload = data.get("storeCreditAccountCredit") or {}
    errors = payload.get("userErrors") or []
    if errors:
        return CreditResult(Outcome.FAILED, message="; ".join(str(e.get("message")) for e in errors)[:500])
    made = payload.get("storeCreditAccountTransaction") or {}
    return CreditResult(Outcome.SUCCEEDED, reference=made.get("id"), kind="store_credit")


def _as_gift_card(app: AppSettings, stores: StoreDirectory, store: StoreContext, credit: CreditIssue) -> CreditResult:
    from connectors.shopify.gift_card import issue_gift_card

    try:
        with AdminClient(app, stores, store) as client:
            return issue_gift_card(client, stores, store, credit)
    except PlatformUnavailable as exc:
        return CreditResult(Outcome.UNKNOWN, message=str(exc))
    except PlatformError as exc:
        return CreditResult(Outcome.FAILED, message=str(exc))


def _credit_input(credit: CreditIssue) -> dict[str, Any]:
    amount = {"amount": format_decimal(credit.amount, credit.currency), "currencyCode": credit.currency}
    return {"creditAmount": amount, "notify": True}


def _credited_since(client: AdminClient, owner: str, credit: CreditIssue, since: str) -> str | None:
    """The account's credit of this amount made at or after ``since``, if there is one."""
    data = client.read(CREDITS_SINCE, {"id": owner})
    accounts = (((data.get("customer") or {}).get("storeCreditAccounts")) or {}).get("nodes") or []
    start = datetime.fromisoformat(since)
    for account in accounts:
        for made in ((account.get("transactions") or {}).get("nodes")) or []:
            if _same(made.get("amount") or {}, credit) and _at(made.get("createdAt")) >= start.replace(microsecond=0):
                return str(made.get("id"))
    return None


def _same(amount: Mapping[str, Any], credit: CreditIssue) -> bool:
    currency = str(amount.get("currencyCode") or "")
    return currency == credit.currency and to_minor(str(amount.get("amount") or "0"), currency) == credit.amount


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else datetime.min.replace(tzinfo=UTC)
