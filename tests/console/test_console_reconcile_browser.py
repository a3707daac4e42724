"""The reconciliation report in a real Chromium: an owner opens Reconciliation from the navigation,
reads a run with every kind of drift, narrows it to one kind, downloads the CSV, runs it again
now, and reads the report at phone width. Screenshots in ``artifacts/console/``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.ledger import reconcile as books
from hub.reconcile.run import reconcile
from tests.console.conftest import CHROMIUM, PASSWORD, sign_in
from tests.gateways.conftest import CASES, STORE, GatewayWorld, make_gateway_world
from tests.reconcile import scenes

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (apt-get install chromium; .ci/run installs it)"
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[GatewayWorld]:
    yield from make_gateway_world(CASES["stripe"], tmp_path)


def test_an_owner_reads_a_report_filters_it_downloads_it_and_runs_it_again(
    world: GatewayWorld, browse: Any, shots: Any
) -> None:
    w = world
    made = scenes.every_kind(w)
    first = reconcile(w.hub.hub, STORE, datetime.now(UTC) - timedelta(days=30), sleep=lambda s: None)
    w.hub.hub.accounts.add_user("olga@example.com", "Olga", "owner", PASSWORD)
    w.hub.hub.accounts.grant("olga@example.com", "sandbox", STORE)

    page = browse(width=1440, height=900)
    sign_in(page, w.hub.url, "olga@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    expect(page.get_by_role("heading", name="Reconciliation", exact=True)).to_be_visible()
    runs = page.locator("table.rc-runs tbody tr")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("1 Amounts differ")
    shots(page, "1-runs")

    runs.first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=f"Reconciliation of {STORE}")).to_be_visible()
    rows = page.locator("table.rc-report tbody tr")
    expect(rows).to_have_count(len(first.drifts))
    imported = rows.filter(has_text="Refund at the gateway the hub did not know")
    expect(imported).to_contain_text(made.dashboard_refund)
    expect(imported).to_contain_text("Yes: imported as a recorded refund")
    shots(page, "2-report")

    page.get_by_label("Show").select_option(books.AMOUNT_MISMATCH)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("50.00 USD")
    expect(rows.first).to_contain_text("40.00 USD")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download CSV")).click()
    table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert table[1][0] == "Amounts differ"
    assert table[1] == [" ".join(c.split()) for c in rows.first.locator("td").all_inner_texts()]
    shots(page, "3-one-kind")

    page.get_by_role("link", name="Show all").click()
    page.get_by_role("link", name=made.changed_amount).click()  # the refund's own page
    expect(page.get_by_text(made.changed_amount).first).to_be_visible()
    page.go_back()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reconciliation").click()
    page.get_by_label("Period (days)").fill("7")
    page.get_by_role("button", name="Run reconciliation now").click()
    expect(page.locator(".flashes")).to_contain_text(f"Reconciled {STORE} over 7 days")
    again = page.locator("table.rc-report tbody tr").filter(has_text=made.unwritten)
    expect(again).to_contain_text("Repaired once already")
    shots(page, "4-run-now")

    phone = browse(width=390, height=844, is_mobile=True)
    sign_in(phone, w.hub.url, "olga@example.com")
    phone.goto(f"{w.hub.url}/reconciliation/{first.run_id}?kind={books.PLATFORM_RECORD_MISSING}")
    expect(phone.locator("table.rc-report tbody tr")).to_have_count(2)
    shots(phone, "5-phone")
