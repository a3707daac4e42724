"""The analytics pages in a real Chromium: a merchant opens each page of charts, every chart's
table shows the figures computed again here from the seeded ledger, each "Download CSV" gives
exactly that table, the filters narrow it to one store, and another tenant's store never shows.
Screenshots in ``artifacts/console/`` (desktop and phone width)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

from hub.console import analytics_tables
from tests.console.conftest import CHROMIUM, sign_in
from tests.console.test_console_analytics_seed import MINE, OTHER, PERIOD, SECRET, expected, seeded

__all__ = ["seeded"]  # the fixture
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (apt-get install chromium; .ci/run installs it)"
)


def _rows(page: Any, key: str) -> list[tuple[str, ...]]:
    cells = page.locator(f'table[data-table="{key}"] tbody tr').evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))"
    )
    return [tuple(row) for row in cells]


def _download(page: Any, key: str, folder: Path) -> list[tuple[str, ...]]:
    with page.expect_download() as started:
        page.locator(f"section#{key}").get_by_role("link", name="Download CSV").click()
    path = folder / f"{key}.csv"
    started.value.save_as(path)
    with path.open(newline="", encoding="utf-8") as f:
        return [tuple(row) for row in csv.reader(f)]


def test_every_chart_its_table_and_its_csv(seeded: Any, browse: Any, shots: Any, tmp_path: Path) -> None:
    seeded.person("ana@example.com")
    want = expected(seeded)
    page = browse(1280, 900, accept_downloads=True)
    sign_in(page, seeded.url, "ana@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    page.get_by_label("From", exact=True).fill(PERIOD["since"])
    page.get_by_label("To", exact=True).fill(PERIOD["until"])
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*since=2026-11-01.*"))
    checked = set()
    for n, section in enumerate(analytics_tables.SECTIONS, start=1):
        page.get_by_role("navigation", name="Analytics pages").get_by_role("link", name=section.title).click()
        expect(page.get_by_role("link", name=section.title)).to_have_attribute("aria-current", "page")
        assert OTHER not in page.content()
        assert not any(secret in page.content() for secret in SECRET)
        for build in section.tables:
            key = build.__name__.removesuffix("_table")
            report = page.locator(f"section#{key}")
            assert _rows(page, key) == want[key], key
            chart = report.locator("svg.chart")
            expect(chart).to_have_attribute("role", "img")
            assert chart.locator("title").first.text_content()
            header = tuple(report.locator("thead th").all_text_contents())
            assert _download(page, key, tmp_path) == [header, *want[key]], key
            checked.add(key)
        shots(page, f"{n}-{section.slug}")
    assert checked == set(analytics_tables.TABLES)


def test_one_store_and_the_phone(seeded: Any, browse: Any, shots: Any) -> None:
    seeded.person("ana@example.com")
    page = browse(390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(page, seeded.url, "ana@example.com")
    page.goto(f"{seeded.url}/analytics?since={PERIOD['since']}&until={PERIOD['until']}")
    options = page.get_by_label("Store", exact=True).locator("option").all_text_contents()
    assert options == ["All my stores", f"{MINE} (sandbox)", "second-store (sandbox)"]
    page.get_by_label("Store", exact=True).select_option(f"sandbox:{MINE}")
    page.get_by_role("button", name="Show").tap()
    page.wait_for_url(re.compile(r".*store=sandbox%3A" + MINE))
    assert _rows(page, "money") == expected(seeded, MINE)["money"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    shots(page, "1-overview-one-store-phone")
    page.goto(f"{seeded.url}/analytics?store=sandbox:{OTHER}")
    expect(page.get_by_role("alert")).to_contain_text("is not one of your stores")
    shots(page, "2-other-tenant-refused", full_page=False)
