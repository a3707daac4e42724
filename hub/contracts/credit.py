"""Issuing an alternative to a refund on the platform: store credit on the customer's account, or
a coupon bound to the customer. Plain data across the plugin boundary, like ``results``."""

from __future__ import annotations

from dataclasses import dataclass

from hub.contracts.results import Outcome


@dataclass(frozen=True)
class CreditIssue:
    """One alternative to issue. ``key`` is fixed before the first call and names the credit on
    the platform (the coupon's code is made from it, the rule or transaction carries it), so a
    retry after a lost answer finds the first one instead of issuing a second."""

    key: str
    hub_refund_id: str
    order_id: str
    kind: str  # store_credit | coupon
    amount: int  # minor units, any bonus included
    currency: str
    customer_id: str | None
    email: str | None
    note: str = ""


@dataclass(frozen=True)
class CreditResult:
    outcome: Outcome  # succeeded | failed | unknown | unavailable, as for a refund
    reference: str | None = None  # the platform's transaction, coupon or rule id
    code: str | None = None  # what the customer redeems (a coupon code)
    kind: str | None = None  # what was issued, when the platform chose (store credit vs coupon)
    message: str | None = None
