"""Magento customers hear of every step as a comment visible on the order (Magento notifies them)
and by the hub's own e-mail, received here by a real SMTP server."""

from __future__ import annotations

from connectors.magento.transformers import HUB_TAG
from hub.ledger import states
from tests.connectors.magento.test_magento_through_hub import DENY, Shops, shops  # noqa: F401 - fixture
from tests.customer.conftest import Mailbox, mailbox, text_of  # noqa: F401 - fixture

BUYER = "jane@example.com"


def _hub_comments(shop: object, order_id: int) -> list[dict[str, object]]:
    histories = shop.magento.order(order_id)["status_histories"]  # type: ignore[attr-defined]
    return [h for h in reversed(histories) if HUB_TAG in str(h["comment"])]  # Magento lists the newest first


def test_an_approved_rma_is_three_visible_comments_and_three_e_mails(
    shops: Shops,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
) -> None:
    shop = shops.open()
    shop.hub.config.email = mailbox.settings()
    order = shop.order(2500)
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: len(mailbox.messages) >= 3)

    refund = shop.refund()
    assert refund.state == states.WRITTEN_BACK
    comments = _hub_comments(shop, order["entity_id"])
    texts = [str(c["comment"]) for c in comments]
    assert [c["is_visible_on_front"] for c in comments] == [1, 1, 1]
    assert "We received your request" in texts[0]
    assert "is approved" in texts[1]
    assert "5–10 business days" in texts[1]  # Stripe, from the hub's table
    assert "We sent your refund of 25.00 USD" in texts[2]
    subjects = [str(m["Subject"]) for m in mailbox.to(BUYER)]
    assert subjects[0].startswith("We received your refund request")
    assert subjects[1].endswith("is approved")
    assert subjects[2].endswith("is on its way")


def test_a_denial_tells_the_reason_on_the_order_and_by_e_mail(shops: Shops, mailbox: Mailbox) -> None:  # noqa: F811
    shop = shops.open(policy=DENY)
    shop.hub.config.email = mailbox.settings()
    order = shop.order(2500)
    shop.magento.create_rma(order["entity_id"])
    shop.settle(until=lambda: len(mailbox.messages) >= 2)

    refund = shop.refund()
    assert refund.state == states.DENIED
    explanation = str(refund.decision["decision"]["explanation"]).strip()
    _, denied_comment = _hub_comments(shop, order["entity_id"])
    assert explanation in str(denied_comment["comment"])
    assert "What you can do next" in str(denied_comment["comment"])
    _, denied_mail = mailbox.to(BUYER)
    assert explanation in text_of(denied_mail)
    assert shop.stripe_refunds() == []
