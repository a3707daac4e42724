"""An accepted alternative issued on WooCommerce: a fixed-cart coupon bound to the customer's
e-mail (``email_restrictions``), usable once (WooCommerce has no store credit of its own).

The coupon's code is made from the credit's key, and WooCommerce keeps codes unique: before
creating, the code is looked up, and a create refused because the code exists is read back — so
a retry after a lost answer finds the first coupon, never a second.
"""

from __future__ import annotations

from connectors.woocommerce.client import WooClient, WooError
from hub.contracts import CreditIssue, CreditResult, Outcome
from hub.models.money import format_decimal

TAKEN = "woocommerce_rest_coupon_code_already_exists"
HUB_CREDIT_META = "refund_hub_credit"


def coupon_code(key: str) -> str:
    """Lower-case, as WooCommerce stores codes (``wc_format_coupon_code``)."""
    return f"rh-{key.removeprefix('cr_')}".lower()


def coupon_body(credit: CreditIssue) -> dict[str, object]:
    return {
        "code": coupon_code(credit.key),
        "discount_type": "fixed_cart",
        "amount": format_decimal(credit.amount, credit.currency),
        "individual_use": False,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "email_restrictions": [credit.email],
        "description": credit.note[:200] or f"Refund credit for order #{credit.order_id}",
        "meta_data": [
            {"key": HUB_CREDIT_META, "value": credit.key},
            {"key": "refund_hub_id", "value": credit.hub_refund_id},
        ],
    }


def issue_credit(client: WooClient, credit: CreditIssue) -> CreditResult:
    code = coupon_code(credit.key)
    try:
        found = _existing(client, code)
    except WooError as exc:  # nothing was asked to change: try again later
        return CreditResult(Outcome.UNAVAILABLE, message=str(exc))
    if found is not None:
        return found
    if not credit.email:
        return CreditResult(Outcome.FAILED, message="the order has no e-mail to bind a coupon to")
    try:
        made = client.post("coupons", coupon_body(credit))
    except WooError as exc:
        if exc.code == TAKEN:  # an earlier attempt made it after all
            return _existing(client, code) or CreditResult(Outcome.UNKNOWN, message=str(exc))
        if exc.status is not None and 400 <= exc.status < 500:
            return CreditResult(Outcome.FAILED, message=str(exc))
        outcome = Outcome.UNKNOWN if exc.sent else Outcome.UNAVAILABLE
        return CreditResult(outcome, message=str(exc))
    return CreditResult(Outcome.SUCCEEDED, reference=str(made["id"]), code=made["code"], kind="coupon")


def _existing(client: WooClient, code: str) -> CreditResult | None:
    rows = client.get("coupons", {"code": code}) or []
    match = next((c for c in rows if str(c.get("code")) == code), None)
    if match is None:
        return None
    return CreditResult(Outcome.SUCCEEDED, reference=str(match["id"]), code=code, kind="coupon")
