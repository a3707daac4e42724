"""The analytics pages through Flask's client: who may open them, the filters (a wrong one is a
400 that names it), tenancy (another tenant's store, SKU, reviewer or rule never shows, not even
when asked for by name), the platforms' order counts (asked once a while, a failing platform
leaves its rate empty with a note) and each table's CSV, cell for cell the page's table."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from hub.console import analytics_tables
from tests.console.conftest import login
from tests.console.test_console_analytics_seed import MINE, OTHER, PERIOD, SECRET, CountingSandbox, expected, seeded

__all__ = ["seeded"]  # the fixture


def _client(seed: Any, email: str, role: str = "approver") -> Any:
    seed.person(email, role)
    client = seed.harness.app.test_client()
    assert login(client, email).status_code == 302
    return client


def _tables(page: str) -> dict[str, list[tuple[str, ...]]]:
    """The page's tables by ``data-table``: their body rows as cell texts."""
    found = {}
    for key, body in re.findall(
        r'<table class="table keep-table" data-table="([a-z]+)">.*?<tbody>(.*?)</tbody>', page, re.S
    ):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        found[key] = [
            tuple(html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)) for row in rows
        ]
    return found


def test_sign_in_needed_and_support_may_not_see_analytics(seeded: Any) -> None:
    anonymous = seeded.harness.app.test_client()
    assert anonymous.get("/analytics").status_code == 302
    support = _client(seeded, "cy@example.com", "support")
    assert support.get("/analytics").status_code == 403
    assert support.get("/analytics/csv/money.csv").status_code == 403
    assert ">Analytics<" not in support.get("/queue").text
    approver = _client(seeded, "ana@example.com")
    assert ">Analytics<" in approver.get("/queue").text
    assert approver.get("/analytics").status_code == 200
    assert "Export these refunds" not in approver.get("/analytics").text  # approvers do not hold exports:read
    analyst = _client(seeded, "al@example.com", "analyst")
    assert "Export these refunds" in analyst.get("/analytics").text


def test_every_table_matches_the_seed_and_its_csv(seeded: Any) -> None:
    client = _client(seeded, "ana@example.com")
    want = expected(seeded)
    seen = set()
    for section in analytics_tables.SECTIONS:
        page = client.get(f"/analytics/{section.slug}", query_string=PERIOD, follow_redirects=True)
        assert page.status_code == 200, page.text[:300]
        tables = _tables(page.text)
        for key, rows in tables.items():
            assert rows == want[key], key
            answer = client.get(f"/analytics/csv/{key}.csv", query_string=PERIOD)
            assert answer.status_code == 200
            assert answer.mimetype == "text/csv"
            assert "attachment" in answer.headers["Content-Disposition"]
            written = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
            assert [tuple(r) for r in written[1:]] == rows, key
            seen.add(key)
    assert seen == set(analytics_tables.TABLES)  # the seed fills every table


def test_another_tenants_store_never_shows(seeded: Any) -> None:
    client = _client(seeded, "ana@example.com")
    for section in analytics_tables.SECTIONS:
        text = client.get(f"/analytics/{section.slug}", query_string=PERIOD, follow_redirects=True).text
        assert OTHER not in text
        assert not any(secret in text for secret in SECRET)
    for key in analytics_tables.TABLES:
        text = client.get(f"/analytics/csv/{key}.csv", query_string=PERIOD).get_data(as_text=True)
        assert OTHER not in text, key
        assert not any(secret in text for secret in SECRET), key
    for store in (OTHER, f"sandbox:{OTHER}"):
        refused = client.get("/analytics", query_string={**PERIOD, "store": store})
        assert refused.status_code == 400
        assert "is not one of your stores" in refused.text
        assert client.get("/analytics/csv/stores.csv", query_string={"store": store}).json["error"] == "invalid_filter"
    assert OTHER not in [asked[0] for asked in CountingSandbox.asked]  # its platform is not even asked


def test_one_store_and_one_platform(seeded: Any) -> None:
    client = _client(seeded, "ana@example.com")
    page = client.get("/analytics/channels", query_string={**PERIOD, "store": f"sandbox:{MINE}"})
    assert _tables(page.text)["stores"] == expected(seeded, MINE)["stores"]
    assert f"store {MINE}" in page.text
    assert client.get("/analytics", query_string={"platform": "shopify"}).status_code == 400
    assert client.get("/analytics", query_string={"platform": "sandbox"}).status_code == 200


def test_wrong_filters_are_refused_by_name(seeded: Any) -> None:
    client = _client(seeded, "ana@example.com")
    for query, words in (
        ({"since": "2026-13-01"}, "is not a date"),
        ({"since": "2026-11-20", "until": "2026-11-01"}, "starts (2026-11-20) after it ends"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "at most 400 days"),
    ):
        page = client.get("/analytics", query_string=query)
        assert page.status_code == 400, query
        assert words in html.unescape(page.text), query
        answer = client.get("/analytics/csv/trend.csv", query_string=query)
        assert answer.status_code == 400
        assert words in answer.json["message"]
    assert client.get("/analytics/nowhere").status_code == 404
    assert client.get("/analytics/csv/nowhere.csv").json["error"] == "not_found"


def test_order_counts_asked_once_a_while_and_a_failure_leaves_the_rate_empty(seeded: Any) -> None:
    client = _client(seeded, "ana@example.com")
    CountingSandbox.DOWN.add(MINE)
    page = client.get("/analytics", query_string=PERIOD)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert f"{MINE}: sandbox did not answer for its order count (PlatformUnavailable)." in text
    rate = {row[0]: row for row in _tables(page.text)["rate"]}
    assert rate[MINE][4:] == ("—", "—")
    assert rate["second-store"][4:] == ("0", "—")  # no orders: no rate, not a division by zero
    asked = len(CountingSandbox.asked)
    assert asked == 2  # each visible store once
    client.get("/analytics", query_string=PERIOD)
    client.get("/analytics/csv/rate.csv", query_string=PERIOD)
    assert len(CountingSandbox.asked) == asked  # kept a while, failures too
    client.get("/analytics/reasons", query_string=PERIOD)
    assert len(CountingSandbox.asked) == asked  # pages without the rate do not ask


def test_the_page_is_readable_without_the_charts(seeded: Any) -> None:
    """Each chart is an image named by its title and described in words, its table beside it."""
    client = _client(seeded, "ana@example.com")
    text = client.get("/analytics/reasons", query_string=PERIOD).text
    charts = re.findall(r'<svg class="chart"[^>]*aria-labelledby="([^" ]+) ([^"]+)"', text)
    assert len(charts) == 2
    for title, desc in charts:
        assert f'id="{title}"' in text
        assert f'id="{desc}"' in text
    assert text.count("Download CSV") == 2
