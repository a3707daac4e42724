"""What the console's refund page shows of the customer's side: the customer's feedback, every
notice owed and what became of it, and the alternative issued. Offered to the console's templates
as ``customer_side(refund_id)`` (the console includes ``customer/_console_card.html``)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger import credits, feedback, notices
from hub.ledger.unit import read
from hub.runtime.bootstrap import Hub


@dataclass(frozen=True)
class CustomerSide:
    answer: feedback.Feedback | None
    notices: list[notices.Notice]
    credit: credits.Credit | None


def customer_side(hub: Hub, refund_id: str) -> CustomerSide:
    with read(hub.engine) as conn:
        return CustomerSide(
            feedback.of_refund(conn, refund_id), notices.of_refund(conn, refund_id), credits.of_refund(conn, refund_id)
        )
