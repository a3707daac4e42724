"""The customer request page in a real Chromium at phone width (390 px): a WooCommerce customer
asks for one of two lines, sees it is eligible, submits, and the status page follows the refund
to completion; a Magento Open Source customer is told why their request is not eligible; guessing
orders is refused. Screenshots in ``artifacts/console/*customer-*``. Here, beside the console's
browser tests, to share their one Chromium (a worker runs one Playwright)."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from hub.ledger import states
from tests.customer.conftest import Mailbox, mailbox, stack, text_of  # noqa: F401 - fixtures
from tests.customer.shops import APPROVE, DENY, magento_order, open_magento, open_woo, woo_order

PHONE = {"width": 390, "height": 844}


def _find(page: Any, number: str, email: str) -> None:
    page.get_by_label("Order number").fill(number)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Find my order").click()


def _fits(page: Any) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_woocommerce_customer_asks_for_one_of_two_lines_and_follows_it_to_completion(
    stack: ExitStack,  # noqa: F811
    tmp_path: Path,
    browse: Any,
    shots: Any,
    mailbox: Mailbox,  # noqa: F811
) -> None:
    shop = open_woo(stack, tmp_path, APPROVE)
    shop.hub.config.email = mailbox.settings()
    order = woo_order(shop)
    page = browse(**PHONE)
    page.goto(shop.hub.url + shop.page)
    _fits(page)
    shots(page, "customer-1-lookup")
    _find(page, str(order["id"]), "ana@example.com")

    page.wait_for_url(re.compile(r".*/customer/order/"))
    assert page.get_by_role("heading", name=f"Order {order['id']}").is_visible()
    page.get_by_label("How many of Tee").select_option("1")
    page.get_by_label("Reason").select_option("size_or_fit")
    page.get_by_label("Anything to add?").fill("Too small for me.")
    _fits(page)
    shots(page, "customer-2-pick")
    page.get_by_role("button", name="Check what happens").click()

    verdict = page.locator(".verdict")
    assert verdict.get_by_role("heading").inner_text() == "Eligible: 9.00 USD back"
    assert page.get_by_label("How many of Tee").input_value() == "1"  # the choice is kept
    assert shop.hub.refunds() == []
    _fits(page)
    shots(page, "customer-3-eligible")
    page.get_by_role("button", name="Send my request").click()

    page.wait_for_url(re.compile(r".*/customer/status/"))
    badge = page.locator("h1 .badge")
    assert badge.inner_text() == "Received, being checked"
    shots(page, "customer-4-received")
    shop.settle(until=lambda: any(r.state == states.WRITTEN_BACK for r in shop.hub.refunds()))

    page.wait_for_function("document.querySelector('h1 .badge').dataset.state === 'written_back'", timeout=15_000)
    assert badge.inner_text() == "Refunded"
    timeline = page.locator(".timeline").inner_text()
    for moment in ("Request received", "Approved", "Refund sent"):
        assert moment in timeline
    assert page.get_by_role("link", name="Tell us in two clicks").is_visible()
    _fits(page)
    shots(page, "customer-5-refunded")

    [refund] = shop.hub.refunds()
    assert (refund.amount, refund.approved_amount) == (900, 900)
    [stripe_refund] = shop.stripe.ledger.refunds.values()
    assert stripe_refund.amount == 900
    assert [line["line_id"] for line in refund.request["lines"]] == [str(order["line_items"][1]["id"])]
    subjects = [str(m["Subject"]) for m in mailbox.wait_for(3)]
    assert subjects[0] == f"We received your refund request for order {order['id']}"
    assert "Refund sent" in text_of(mailbox.messages[-1])


def test_a_magento_open_source_customer_is_told_why_it_is_not_eligible(
    stack: ExitStack,  # noqa: F811
    tmp_path: Path,
    browse: Any,
    shots: Any,
) -> None:
    shop = open_magento(stack, tmp_path, DENY)
    order = magento_order(shop)
    page = browse(**PHONE)
    page.goto(shop.hub.url + shop.page)
    _find(page, str(order["increment_id"]), "jo@example.com")
    page.wait_for_url(re.compile(r".*/customer/order/"))
    page.get_by_label("How many of").first.select_option("1")
    page.get_by_label("Reason").select_option("changed_mind")
    page.get_by_role("button", name="Check what happens").click()

    verdict = page.locator(".verdict")
    assert verdict.get_by_role("heading").inner_text() == "Not eligible"
    assert "window" in verdict.inner_text()  # the policy's own reason, in plain words
    assert page.get_by_role("button", name="Send my request").count() == 0
    _fits(page)
    shots(page, "customer-6-magento-ineligible")
    assert shop.hub.refunds() == []


def test_guessing_orders_is_refused(
    stack: ExitStack,  # noqa: F811
    tmp_path: Path,
    browse: Any,
    shots: Any,
) -> None:
    shop = open_woo(stack, tmp_path, APPROVE)
    shop.hub.config.customer.lookups_per_hour = 3
    order = woo_order(shop)
    page = browse(**PHONE)
    page.goto(shop.hub.url + shop.page)
    answers = []
    for number, email in ((order["id"], "wrong@example.com"), (order["id"] + 7, "ana@example.com")):
        _find(page, str(number), email)
        answers.append(page.get_by_role("alert").inner_text())
    assert answers[0] == answers[1]
    assert "could not find an order with that number and e-mail" in answers[0]
    shots(page, "customer-7-not-found")
    _find(page, str(order["id"] + 8), "ana@example.com")
    _find(page, str(order["id"]), "ana@example.com")  # the right pair, too late: this address is held
    assert "Too many attempts" in page.get_by_role("alert").inner_text()
    assert "Mug" not in page.content()
    _fits(page)
    shots(page, "customer-8-too-many")
