"""What the PayPal simulator keeps: payments and refunds in a ``SimLedger`` with PayPal's ids.

A payment is a v2 ``capture``, a v1 ``sale`` or an uncaptured ``authorization`` (its ``kind``).
"""

from __future__ import annotations

import secrets
import string

from hub.sandbox.gatewaysim import SimLedger

CAPTURE, SALE, AUTHORIZATION = "capture", "sale", "authorization"
KEEP = 1000  # recent exchanges and webhooks kept for inspection (a sandbox may run for days)


def paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


class PayPalLedger(SimLedger):
    def new_id(self, prefix: str) -> str:  # PayPal ids: 17 upper-case letters and digits
        return paypal_id()
