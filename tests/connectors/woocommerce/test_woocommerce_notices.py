"""WooCommerce customers hear of every step twice: a customer note on the order (WooCommerce
mails it) and the hub's own e-mail, received here by a real SMTP server."""

from __future__ import annotations

from pathlib import Path

from hub.ledger import states
from tests.connectors.woocommerce.test_woocommerce_through_hub import DENY, open_world
from tests.customer.conftest import Mailbox, mailbox, text_of, with_email  # noqa: F401 - fixtures

BUYER = "buyer@example.com"


def test_each_step_is_a_customer_note_and_an_e_mail(tmp_path: Path, mailbox: Mailbox) -> None:  # noqa: F811
    for world in open_world(tmp_path, arrival={"stripe": "5 to 10 business days (card)"}):
        world.hub.config.email = mailbox.settings()
        paid = world.pay("stripe")
        world.woo.request_refund(paid.order["id"], "Changed my mind")
        world.settle(until=world.saw("echo_matched"))
        world.settle()

        [refund] = world.hub.refunds()
        assert refund.state == states.WRITTEN_BACK
        notes = [n["note"] for n in world.woo.shop.notes[paid.order["id"]] if n["customer_note"]]
        order = paid.order["id"]
        assert len(notes) == 3
        assert notes[0].startswith(f"We received your request to refund 30.00 USD for order {order}.")
        assert notes[1].startswith(f"Your refund of 30.00 USD for order {order} is approved.")
        assert notes[2].startswith(f"We sent your refund of 30.00 USD for order {order} to your card.")
        assert "5 to 10 business days (card)" in notes[1]  # the store's own table wins over the hub's
        assert all("/customer/" not in n for n in notes)  # signed links only in the customer's mailbox

        mails = mailbox.to(BUYER)
        assert [str(m["Subject"]).split(" for ")[0] for m in mails] == [
            "We received your refund request",
            "Your refund",
            "Your refund",
        ]
        last = text_of(mails[-1])
        assert "Request received" in last
        assert "Refund sent" in last
        assert "5 to 10 business days (card)" in text_of(mails[1])
        told = {
            (a.detail["step"], a.detail["channel"])
            for a in world.hub.audit(refund.id)
            if a.action == "customer_notified"
        }
        assert told == {(s, c) for s in ("received", "approved", "completed") for c in ("platform", "email")}


def test_a_denial_is_a_customer_note_and_an_e_mail_with_the_reason_and_what_next(
    tmp_path: Path,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    for world in open_world(tmp_path, policy=DENY):
        world.hub.config.email = mailbox.settings()
        paid = world.pay("paypal")
        world.woo.request_refund(paid.order["id"], "Changed my mind")
        world.settle(until=lambda: len(mailbox.messages) >= 2)

        [refund] = world.hub.refunds()
        assert refund.state == states.DENIED
        explanation = refund.decision["decision"]["explanation"]
        _, denied = mailbox.to(BUYER)
        assert explanation in text_of(denied)
        assert "What you can do next" in text_of(denied)
        assert "Not approved" in text_of(denied)
        assert world.all_gateway_refunds() == []
