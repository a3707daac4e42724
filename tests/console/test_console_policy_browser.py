"""The policy editor and the people pages in a real Chromium (Debian's package, driven by
Playwright): edit → see the problem at its line → fix → simulate → propose → a second owner
checks and publishes → the history and its diff; people and tokens; the policy page at phone
width. Screenshots in the test's tmp dir and the last ones in ``artifacts/console/``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.ledger import states
from tests.console.conftest import CHROMIUM, sign_in
from tests.hub.conftest import STORE

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (apt-get install chromium; .ci/run installs it)"
)

DRAFT = """version = "2026-12"

[windows.default]
days = 30
start = "delivery"

[amounts]
review_above = 5
"""


def _editor(page: Any) -> Any:
    return page.get_by_label("Policy (TOML)")


def _fix_a_problem_then_simulate(olga: Any, shots: Any) -> None:
    """The editor shows a problem at its line (the cursor on it); fixed, the draft is simulated."""
    _editor(olga).fill(DRAFT.replace("days = 30", "days = -1"))
    olga.get_by_role("button", name="Save and check").click()
    problem = olga.locator("#policy-problem")
    expect(problem).to_contain_text("Line 4: days in [windows.default] must be 0 or more")
    expect(problem.locator(".bad")).to_contain_text("days = -1")
    expect(_editor(olga)).to_be_focused()  # the page's script puts the cursor there once it has run
    selected = olga.evaluate(
        "(() => { const t = document.activeElement; return t.value.slice(t.selectionStart, t.selectionEnd); })()"
    )
    assert selected == "days = -1"  # the cursor is on the line of the problem
    shots(olga, "3-editor-problem-at-line")
    _editor(olga).fill(DRAFT)
    olga.get_by_label("Simulate on the last").fill("7")
    olga.get_by_role("button", name="Save and simulate").click()
    result = olga.locator("section.sim")
    expect(result).to_contain_text("4 refunds decided since")
    expect(result).to_contain_text("3 would be decided differently")
    assert result.locator("table.changes tbody tr").count() == 3
    approved = result.locator("table.tallies tbody tr", has_text="Approved")
    expect(approved).to_contain_text("3")
    expect(approved).to_contain_text("-3")
    shots(olga, "4-simulated")


def test_edit_simulate_and_publish_with_two_people(shop: Any, browse: Any, shots: Any) -> None:
    shop.two_approvers_above(500)
    shop.person("olga@example.com", role="owner")
    shop.person("pete@example.com", role="owner")
    for n in range(3):
        shop.request(f"90{n}", 1000, 1000)  # approved under the live policy
    shop.in_review("909")
    olga = browse()
    sign_in(olga, shop.url, "olga@example.com")
    olga.get_by_role("navigation", name="Main").get_by_role("link", name="Policies").click()
    shots(olga, "1-policies")
    olga.get_by_role("link", name=STORE).click()
    expect(olga.get_by_role("heading", name=f"Refund policy of {STORE}")).to_be_visible()
    shots(olga, "2-live-policy")
    olga.get_by_role("link", name="Edit the policy").click()
    _fix_a_problem_then_simulate(olga, shots)
    olga.get_by_label("What changes, and why (optional)").fill("Everything above 5 is looked at by a person.")
    olga.get_by_role("button", name="Propose for publishing").click()
    expect(olga.locator(".flashes")).to_contain_text("A second person must check it")
    olga.get_by_role("button", name="Check and publish").click()
    expect(olga.locator(".flash-error")).to_contain_text("a second, different person must check")
    shots(olga, "5-proposal-refused-own-check")
    pete = browse()
    sign_in(pete, shop.url, "pete@example.com")
    pete.goto(f"{shop.url}/policies/sandbox/{STORE}")
    expect(pete.locator(".proposal")).to_contain_text("olga@example.com asked")
    expect(pete.locator(".proposal .rule-diff .add", has_text="Refunds up to 5")).to_be_visible()
    shots(pete, "6-checker-sees-the-change")
    pete.get_by_role("button", name="Check and publish").click()
    expect(pete.locator(".flashes")).to_contain_text("Checked and published as version 2")
    rows = pete.locator("table.versions tbody tr")
    assert rows.count() == 2
    expect(rows.first).to_contain_text("checked by pete@example.com")
    shots(pete, "7-published-history")
    pete.get_by_role("link", name="Version 2").click()
    expect(pete.locator(".rule-diff .add", has_text="Refunds up to 5")).to_be_visible()
    shots(pete, "8-version-diff")
    assert shop.request("950", 1000, 1000).state == states.REVIEW  # the pipeline decides with it


def test_people_and_tokens(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.person("ana@example.com", role="approver")
    page = browse()
    sign_in(page, shop.url, "olga@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_label("E-mail").fill("dan@example.com")
    page.get_by_label("Name").fill("Dan Fischer")
    page.get_by_label("Role", exact=True).select_option("support")
    page.get_by_role("button", name="Add person").click()
    once = page.locator("section.once")
    expect(once).to_contain_text("dan@example.com is added as support")
    password = page.get_by_label("One-time password").input_value()
    assert len(password) >= 12
    shots(page, "1-person-added")
    page.get_by_label("Role of ana@example.com").select_option("analyst")
    page.get_by_role("button", name="Change role of ana@example.com").click()
    expect(page.locator(".flashes")).to_contain_text("ana@example.com is analyst now.")
    page.get_by_role("button", name="Disable dan@example.com").click()
    expect(page.locator(".flashes")).to_contain_text("is disabled")
    shots(page, "2-people")
    page.get_by_role("group", name="Your account").get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("nightly export")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New API token").input_value()
    assert token.startswith("rh_")
    shots(page, "3-token-shown-once")
    page.goto(f"{shop.url}/account/tokens")  # the page again: the token is gone
    assert page.get_by_label("New API token").count() == 0
    page.get_by_role("button", name="Revoke nightly export").click()
    expect(page.locator(".flashes")).to_contain_text("Revoked")
    shots(page, "4-token-revoked")


def test_the_policy_pages_at_phone_width(shop: Any, browse: Any, shots: Any) -> None:
    shop.person("olga@example.com", role="owner")
    shop.request("960", 1000, 1000)
    page = browse(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(page, shop.url, "olga@example.com")
    page.goto(f"{shop.url}/policies/sandbox/{STORE}/edit")
    _editor(page).fill(DRAFT)
    page.get_by_role("button", name="Save and simulate").tap()
    expect(page.locator("section.sim")).to_contain_text("would be decided differently")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert width <= 390, f"the editor scrolls sideways ({width}px): {wide}"
    shots(page, "1-editor-phone")
    page.locator("section.sim").scroll_into_view_if_needed()
    shots(page, "1b-simulation-phone", full_page=False)
    page.get_by_role("button", name="Publish the saved draft").tap()
    page.wait_for_url(re.compile(rf".*/policies/sandbox/{STORE}$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shots(page, "2-policy-phone")
