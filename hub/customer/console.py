"""What the console's refund page shows of the customer's side: the customer's feedback, every
notice owed and what became of it, the alternative issued, and the alternative a reviewer may
still take for the customer. Offered to the console's templates as ``customer_side(refund_id)``
(the refund page sets ``side`` once and includes ``customer/_console_card.html`` and
``customer/_console_offer.html``)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger import credits, feedback, notices, states
from hub.ledger import refunds as ledger
from hub.ledger.records import Refund
from hub.ledger.unit import read
from hub.pipeline.notice_text import METHOD_WORDS, with_bonus
from hub.runtime.bootstrap import Hub


@dataclass(frozen=True)
class Offer:
    """The alternative on offer, as ``hub.pipeline.alternatives.accept`` would issue it."""

    kind: str
    words: str  # "store credit"
    amount: int  # minor units, the store's bonus included
    bonus: int
    currency: str


@dataclass(frozen=True)
class CustomerSide:
    answer: feedback.Feedback | None
    notices: list[notices.Notice]
    credit: credits.Credit | None
    offer: Offer | None = None  # still to take: offered, and no credit yet


def customer_side(hub: Hub, refund_id: str) -> CustomerSide:
    with read(hub.engine) as conn:
        credit = credits.of_refund(conn, refund_id)
        row = ledger.get(conn, refund_id) if credit is None else None
        return CustomerSide(
            feedback.of_refund(conn, refund_id),
            notices.of_refund(conn, refund_id),
            credit,
            _offer(hub, row) if row is not None else None,
        )


def _offer(hub: Hub, row: Refund) -> Offer | None:
    from hub.pipeline.alternatives import KINDS

    decision = (row.decision or {}).get("decision") or {}
    kind = KINDS.get(str(decision.get("alternative") or ""))
    if row.state != states.OFFERED or kind is None:
        return None
    directory = hub.stores.get(row.connector)
    store = directory.get(row.store_id) if directory is not None else None
    total, bonus = with_bonus(store, int(decision.get("amount") or 0))
    return Offer(kind, METHOD_WORDS.get(kind, kind.replace("_", " ")), total, bonus, row.currency)
