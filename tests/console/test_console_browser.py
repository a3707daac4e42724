"""The console in a real Chromium (Debian's package, driven by Playwright): a merchant signs in,
sees only the stores granted, works the review queue under maker-checker, denies with a reason,
replays a dead letter, and the queue works at phone width. Each test saves screenshots (the
test's tmp dir, and the last ones in ``artifacts/console/``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.ledger import states
from tests.console.conftest import CHROMIUM, OTHER_STORE, sign_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (apt-get install chromium; .ci/run installs it)"
)


def _state(shop: Any, refund_id: str) -> str:
    [row] = [r for r in shop.world.hub.refunds() if r.id == refund_id]
    return str(row.state)


def test_sign_in_and_see_only_granted_stores(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("ana@example.com")
    mine = shop.in_review("7101")
    theirs = shop.in_review("7102")
    shop.move_to_store(theirs.id, OTHER_STORE)
    page = browse()
    page.goto(f"{shop.url}/queue")
    page.wait_for_url(re.compile(r".*/login\?next=/queue"))
    shots(page, "1-login")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_contain_text("wrong e-mail or password")
    sign_in(page, shop.url, "ana@example.com")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1
    assert mine.id in rows.first.inner_text()
    shots(page, "2-queue")
    page.goto(f"{shop.url}/refunds/{theirs.id}")
    assert page.get_by_role("heading", name="Not found").is_visible()
    shots(page, "3-other-tenant-404")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stores").click()
    table = page.locator("table").inner_text()
    assert "sandbox-store" in table
    assert OTHER_STORE not in table
    shots(page, "4-stores")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login"))
    page.goto(f"{shop.url}/queue")
    page.wait_for_url(re.compile(r".*/login"))


def test_two_approvers_above_the_threshold(shop: Any, browse: Any, shots: Any) -> None:
    shop.two_approvers_above(500)
    shop.person("ana@example.com")
    shop.person("ben@example.com")
    refund = shop.in_review("7201")
    ana = browse()
    sign_in(ana, shop.url, "ana@example.com")
    ana.get_by_role("link", name="Order 7201").click()
    ana.get_by_role("button", name="Assign to me").click()
    expect(ana.locator(".flashes")).to_contain_text("Assigned to you.")
    ana.get_by_label("A chosen amount").check()
    ana.get_by_label("Amount (USD)").fill("8.00")
    ana.get_by_role("button", name="Approve", exact=True).click()
    expect(ana.locator(".flashes")).to_contain_text("second approver must check it")
    shots(ana, "1-first-approval")
    # the maker cannot be the checker
    ana.get_by_label("A chosen amount").check()
    ana.get_by_label("Amount (USD)").fill("8.00")
    ana.get_by_role("button", name="Approve", exact=True).click()
    expect(ana.locator(".flash-error")).to_contain_text("second, different approver")
    shots(ana, "2-refused-own-check")
    assert _state(shop, refund.id) == states.REVIEW
    assert shop.world.gateway_refunds() == []
    # the queue shows the approval waiting for its checker
    ana.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    assert ana.locator("table.queue .checker").is_visible()
    ben = browse()
    sign_in(ben, shop.url, "ben@example.com")
    shots(ben, "3-queue-awaiting-checker")
    ben.get_by_role("link", name="Order 7201").click()
    ben.get_by_label("Add a note for your team").fill("Checked the return label: fine.")
    ben.get_by_role("button", name="Add note").click()
    expect(ben.locator(".notes")).to_contain_text("Checked the return label")
    ben.get_by_label("A chosen amount").check()
    ben.get_by_label("Amount (USD)").fill("8.00")
    ben.get_by_role("button", name="Approve", exact=True).click()
    expect(ben.locator(".flashes")).to_contain_text("Approved")
    assert _state(shop, refund.id) == states.APPROVED
    shop.world.hub.settle(senders=[shop.world.platform.sender, shop.world.gateway.sender])
    [moved] = shop.world.gateway_refunds()
    assert moved.amount == 800
    ben.reload()
    timeline = ben.locator(".timeline").inner_text()
    assert "first approval" in timeline
    assert "user:ana@example.com" in timeline
    assert "user:ben@example.com" in timeline
    shots(ben, "4-approved-refund-page")


def test_deny_with_a_reason(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("ana@example.com")
    refund = shop.in_review("7301")
    page = browse()
    sign_in(page, shop.url, "ana@example.com")
    page.goto(f"{shop.url}/refunds/{refund.id}")
    shots(page, "1-refund-in-review")
    page.get_by_role("button", name="Deny").click()  # no reason: the browser refuses (required)
    assert _state(shop, refund.id) == states.REVIEW
    page.get_by_label("Reason (the customer reads it)").fill("The item was returned worn.")
    page.get_by_role("button", name="Deny").click()
    expect(page.locator(".flashes")).to_contain_text("Denied")
    assert _state(shop, refund.id) == states.DENIED
    expect(page.locator("main")).to_contain_text("The item was returned worn.")
    shots(page, "2-denied")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    assert page.get_by_role("heading", name="Nothing waits for you").is_visible()


def test_replay_a_dead_letter(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("ana@example.com")
    delivery = shop.dead_letter()
    page = browse()
    sign_in(page, shop.url, "ana@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dead letters").click()
    row = page.locator("tbody tr", has_text=delivery.id)
    assert row.is_visible()
    shots(page, "1-dead-letters")
    row.get_by_role("button", name="Replay").click()
    expect(page.locator(".flashes")).to_contain_text("queued again")
    [again] = [d for d in shop.world.hub.deliveries() if d.id == delivery.id]
    assert again.status == "received"
    assert any(a.action == "replayed" and a.actor == "user:ana@example.com" for a in shop.world.hub.audit())
    shots(page, "2-replayed")


def test_support_cannot_decide_or_replay(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("cy@example.com", role="support")
    refund = shop.in_review("7401")
    shop.dead_letter()
    page = browse()
    sign_in(page, shop.url, "cy@example.com")
    page.goto(f"{shop.url}/refunds/{refund.id}")
    assert page.get_by_role("button", name="Approve", exact=True).count() == 0
    assert page.get_by_role("button", name="Add note").is_visible()
    page.goto(f"{shop.url}/deliveries")
    assert page.get_by_role("button", name="Replay").count() == 0


def test_the_queue_at_phone_width(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("ana@example.com")
    for n in range(3):
        shop.in_review(f"75{n:02}", asked=3500 + 100 * n)
    page = browse(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(page, shop.url, "ana@example.com")
    shots(page, "1-queue-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    first = page.get_by_role("link", name="Order 7500")
    box = first.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    first.tap()
    page.wait_for_url(re.compile(r".*/refunds/"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    approve = page.get_by_role("button", name="Approve", exact=True)
    assert approve.is_visible()
    shots(page, "2-refund-phone")
    approve.tap()  # the whole 35.00 of a 10.00 payment: refused in plain words
    expect(page.locator(".flash-error")).to_contain_text("refund")
    page.get_by_label("A chosen amount").tap()
    page.get_by_label("Amount (USD)").fill("10.00")
    page.get_by_role("button", name="Approve", exact=True).tap()
    expect(page.locator(".flashes")).to_contain_text("Approved")
    shots(page, "3-approved-phone", full_page=False)
