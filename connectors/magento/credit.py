"""An accepted alternative issued on Magento: a cart price rule worth the credit (``cart_fixed``,
one use) with one specific coupon whose code is made from the credit's key. Open Source has no
store credit, and Adobe Commerce's customer balance has no REST call that adds to it, so both
editions get a coupon (a rule cannot be bound to an e-mail: the code is sent to the customer only).

Idempotent in steps: the coupon is looked up by its code, the rule by its name (which carries the
key), before either is created; a lost answer is found again on the next attempt.
"""

from __future__ import annotations

from typing import Any

from connectors.magento.client import MagentoClient, MagentoError, MaybeApplied
from hub.contracts import CreditIssue, CreditResult, Outcome
from hub.errors import PlatformError
from hub.models.money import format_decimal

ALL_GROUPS = [0, 1, 2, 3]  # NOT LOGGED IN, General, Wholesale, Retailer: a guest's order is a guest's too


def coupon_code(key: str) -> str:
    return f"RH-{key.removeprefix('cr_').upper()}"


def rule_name(key: str) -> str:
    return f"Refund Hub credit {key}"


def rule_body(credit: CreditIssue, website_id: int) -> dict[str, Any]:
    return {
        "rule": {
            "name": rule_name(credit.key),
            "description": credit.note[:255],
            "is_active": True,
            "website_ids": [website_id],
            "customer_group_ids": ALL_GROUPS,
            "coupon_type": "SPECIFIC_COUPON",
            "use_auto_generation": False,
            "uses_per_coupon": 1,
            "uses_per_customer": 1,
            "simple_action": "cart_fixed",
            "discount_amount": float(format_decimal(credit.amount, credit.currency)),
            "discount_qty": 0,
            "apply_to_shipping": False,
            "stop_rules_processing": False,
        }
    }


def issue_credit(client: MagentoClient, credit: CreditIssue, website_id: int = 1) -> CreditResult:
    code = coupon_code(credit.key)
    try:
        coupon = _one(client, "coupons/search", "code", code)
        if coupon is not None:
            return CreditResult(Outcome.SUCCEEDED, reference=str(coupon["rule_id"]), code=code, kind="coupon")
        rule = _one(client, "salesRules/search", "name", rule_name(credit.key))
        if rule is None:
            rule = client.post("salesRules", rule_body(credit, website_id))
        client.post(
            "coupons",
            {
                "coupon": {
                    "rule_id": rule["rule_id"],
                    "code": code,
                    "usage_limit": 1,
                    "usage_per_customer": 1,
                    "is_primary": True,
                    "type": 0,
                }
            },
        )
    except MaybeApplied as exc:  # sent, answer lost: the next attempt finds what it made
        return CreditResult(Outcome.UNKNOWN, message=str(exc))
    except MagentoError as exc:
        outcome = Outcome.FAILED if 400 <= exc.status < 500 and exc.status != 429 else Outcome.UNAVAILABLE
        return CreditResult(outcome, message=str(exc))
    except PlatformError as exc:  # a read that failed, or a write surely never sent: nothing changed
        return CreditResult(Outcome.UNAVAILABLE, message=str(exc))
    return CreditResult(Outcome.SUCCEEDED, reference=str(rule["rule_id"]), code=code, kind="coupon")


def _one(client: MagentoClient, listing: str, field: str, value: str) -> dict[str, Any] | None:
    return next((r for r in client.search(listing, [[(field, value, "eq")]]) if str(r.get(field)) == value), None)
