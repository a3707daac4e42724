"""In a real Chromium: a reviewer opens a refund the policy answered with store credit, takes it
for the customer, and the page shows it issued (``artifacts/console/*alternative*``)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.console.conftest import Shots, sign_in
from tests.console.test_console_alternative import REVIEWER, offered
from tests.customer.conftest import stack  # noqa: F401 - fixture


def test_a_reviewer_takes_the_store_credit_in_the_browser(
    stack: ExitStack,  # noqa: F811
    tmp_path: Path,
    browse: Any,
    shots: Shots,
) -> None:
    shop, refund = offered(stack, tmp_path)
    page = browse()
    sign_in(page, shop.hub.url, REVIEWER)
    page.goto(f"{shop.hub.url}/refunds/{refund.id}")
    offer = page.get_by_role("region", name="Take the alternative")
    assert "13.20 USD as store credit" in offer.inner_text()
    shots(page, "offered")

    offer.get_by_role("button", name="Issue 13.20 USD store credit").click()
    page.wait_for_selector(".flash")
    assert "13.20 USD as store credit for the customer" in page.locator(".flash").first.inner_text()
    shop.settle(timeout=30)
    page.reload()
    card = page.get_by_role("region", name="Customer")
    assert "Took the alternative" in card.inner_text()
    assert "issued" in card.inner_text()
    assert page.get_by_role("region", name="Take the alternative").count() == 0
    assert page.get_by_role("region", name="Approve").count() == 0
    shots(page, "issued")
    assert shop.platform.coupons.creates == 1
