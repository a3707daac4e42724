"""After the refund, the customer rates it through a signed survey link (from the e-mail and the
status page); the answer is stored against the refund, audited, and shown on its console page."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

from hub.ledger import feedback
from hub.ledger.unit import read
from tests.console.conftest import PASSWORD, login
from tests.customer.conftest import Mailbox, text_of
from tests.customer.shops import APPROVE, open_woo, woo_order
from tests.customer.test_customer_pages import csrf, find


def test_feedback_is_collected_and_shown_on_the_refunds_console_page(
    stack: ExitStack, tmp_path: Path, mailbox: Mailbox
) -> None:
    shop = open_woo(stack, tmp_path, APPROVE)
    shop.hub.config.email = mailbox.settings()
    order = woo_order(shop)
    customer = shop.hub.app.test_client()
    page_url = find(customer, shop, str(order["id"]), "ana@example.com").headers["Location"]
    mug, tee = (item["id"] for item in order["line_items"])
    form = {"csrf_token": csrf(customer.get(page_url).text), f"qty-{mug}": "1", f"qty-{tee}": "0", "reason": "damaged"}
    previewed = customer.post(f"{page_url}/preview", data=form).text
    nonce = re.search(r'name="nonce" value="([0-9a-f]+)"', previewed)
    assert nonce
    customer.post(f"{page_url}/submit", data={**form, "nonce": nonce.group(1)})
    shop.settle()
    [refund] = shop.hub.refunds()

    # the survey link the completed e-mail carries (signed, under the hub's public URL)
    [completed] = [m for m in mailbox.messages if "on its way" in str(m["Subject"])]
    link = re.search(r"https?://\S+(/customer/feedback/\S+)", text_of(completed))
    assert link
    survey = customer.get(link.group(1))
    assert survey.status_code == 200
    assert "How did it go?" in survey.text
    bad = customer.post(link.group(1), data={"csrf_token": csrf(survey.text), "rating": "9"})
    assert bad.status_code == 422
    answered = customer.post(
        link.group(1),
        data={"csrf_token": csrf(survey.text), "rating": "4", "comment": "Quick, thanks.", "reason": "wrong_item"},
    )
    assert "Thank you" in answered.text
    with read(shop.hub.hub.engine) as conn:
        stored = feedback.of_refund(conn, refund.id)
        summary = feedback.summary(conn, "woocommerce", shop.store_id)
    assert stored is not None
    assert (stored.rating, stored.comment, stored.reason) == (4, "Quick, thanks.", "wrong_item")
    assert summary == {"answers": 1, "mean_rating": 4.0, "corrected": 1}
    assert [a.detail["rating"] for a in shop.hub.audit(refund.id) if a.action == "feedback_received"] == [4]

    shop.hub.hub.accounts.add_user("lee@shop.example", "Lee", "approver", PASSWORD)
    shop.hub.hub.accounts.grant("lee@shop.example", "woocommerce", shop.store_id)
    staff = shop.hub.app.test_client()
    assert login(staff, "lee@shop.example").status_code == 302
    console = staff.get(f"/refunds/{refund.id}")
    assert console.status_code == 200
    card = console.text[console.text.index('id="customer-h"') :]
    assert "Rated 4/5" in card
    assert "Quick, thanks." in card
    assert "Their reason: wrong item" in card
    assert "completed · email" in card
