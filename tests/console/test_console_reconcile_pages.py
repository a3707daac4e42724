"""The reconciliation pages over a real run: the sandbox store and Stripe's simulator with one of
every kind of drift made at the source (``tests.reconcile.scenes``), reconciled by the hub's own
call; then the list of runs, a run's report, its CSV (the table, cell for cell), the filters, who
may see and run it, and another tenant's run as a 404 page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.tables import users
from hub.ledger import reconcile as books
from hub.ledger.unit import read, write
from hub.reconcile.run import reconcile
from tests.console.conftest import PASSWORD, csrf_of, login
from tests.gateways.conftest import CASES, STORE, GatewayWorld, make_gateway_world
from tests.reconcile import databases, scenes

OTHER = "other-store"
NOT_LISTED = "gateway:stripe-main: stripe cannot list refunds; not compared"
NOT_READ = "platform:sandbox: the store answered 503"


@dataclass
class Books:
    world: GatewayWorld
    made: scenes.EveryKind
    run_id: str  # the run the hub made (as the janitor would)
    other_run: str  # a run of another tenant's store

    def client(self, email: str) -> Any:
        client = self.world.hub.app.test_client()
        assert login(client, email).status_code == 302
        return client

    def runs(self) -> list[books.Run]:
        with read(self.world.hub.hub.engine) as conn:
            return books.runs(conn, limit=100)


def _person(w: GatewayWorld, email: str, role: str, store: str = STORE) -> None:
    w.hub.hub.accounts.add_user(email, email.split("@")[0].capitalize(), role, PASSWORD)
    w.hub.hub.accounts.grant(email, "sandbox", store)


@pytest.fixture(scope="module", params=databases.KINDS)
def database_url(request: pytest.FixtureRequest, pg_available: bool) -> Iterator[str | None]:
    """The pages on SQLite and on a private PostgreSQL schema."""
    with databases.database_url(request.param, pg_available) as url:
        yield url


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Books]:
    folder = tmp_path_factory.mktemp("reconcile-pages")
    for w in make_gateway_world(CASES["stripe"], folder, database_url):
        made = scenes.every_kind(w)
        report = reconcile(w.hub.hub, STORE, datetime.now(UTC) - timedelta(days=30), sleep=lambda s: None)
        directory = w.hub.hub.stores["sandbox"]
        store = directory.get(STORE)
        assert store is not None
        directory.save(OTHER, settings=store.settings, credentials=store.credentials)
        with write(w.hub.hub.engine) as conn:
            other_run = books.start_run(conn, "reconcile", "sandbox", OTHER, datetime.now(UTC) - timedelta(days=30))
            books.finish_run(conn, other_run, {}, f"{NOT_LISTED}; {NOT_READ}")
        _person(w, "olga@example.com", "owner")
        _person(w, "anna@example.com", "analyst")
        _person(w, "sam@example.com", "support")
        _person(w, "ted@example.com", "owner", store=OTHER)
        yield Books(w, made, report.run_id, other_run)


# --- reading a page ---------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every table's header cells and body rows, as text (whitespace collapsed); and links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, tuple[list[str], list[list[str]]]] = {}
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("class") or ""
            self.tables[self._table] = ([], [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table][1].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "a":
            self._href, self._link_text = a.get("href"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table is not None and self._cell is not None:
            text = " ".join(" ".join(self._cell).split())
            head, body = self.tables[self._table]
            (head if tag == "th" else body[-1]).append(text)
            self._cell = None
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(" ".join(self._link_text).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._href is not None:
            self._link_text.append(data)


def _page(html: str) -> _Tables:
    parsed = _Tables()
    parsed.feed(html)
    return parsed


def _report(shop: Books, client: Any, query: str = "") -> tuple[list[str], list[list[str]], _Tables]:
    answer = client.get(f"/reconciliation/{shop.run_id}{query}")
    assert answer.status_code == 200, answer.text
    parsed = _page(answer.text)
    [(head, body)] = [t for name, t in parsed.tables.items() if "rc-report" in name]
    return head, [row for row in body if row], parsed


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the pages --------------------------------------------------------------------------------


def test_the_list_shows_each_run_with_its_drift_per_kind_and_what_was_repaired(shop: Books) -> None:
    answer = shop.client("anna@example.com").get("/reconciliation")
    assert answer.status_code == 200
    parsed = _page(answer.text)
    [(head, body)] = [t for name, t in parsed.tables.items() if "rc-runs" in name]
    assert head == ["Run", "Store", "Period", "Found", "Repaired by the hub", "For you"]
    [row] = [r for r in body if r]  # the other tenant's run is not listed
    with read(shop.world.hub.hub.engine) as conn:
        run = books.run(conn, shop.run_id)
    assert run is not None
    found = {kind: n for kind, n in run.counts.items() if kind in books.KINDS}
    # the scene: each kind once, the vanished and the changed refund's payment totals, and two
    # platform records missing (one the hub writes back, one deleted by hand)
    assert found == {
        books.UNKNOWN_AT_LEDGER: 1, books.MISSING_AT_GATEWAY: 1, books.AMOUNT_MISMATCH: 1,
        books.STATE_MISMATCH: 1, books.PAYMENT_TOTAL_MISMATCH: 3, books.PLATFORM_RECORD_MISSING: 2,
        books.PLATFORM_RECORD_DOUBLED: 1, books.UNKNOWN_PLATFORM_RECORD: 1,
    }  # fmt: skip
    assert row[1] == f"{STORE} sandbox"
    assert row[2].startswith("30 days from ")
    for kind, n in found.items():
        assert f"{n} {_kind_words(kind)}" in row[3]
    assert row[4:] == ["2", str(sum(found.values()) - 2)]  # imported, write-back queued; the rest is a person's
    links = dict((text, href) for href, text in parsed.links)
    assert links["1 Amounts differ"] == f"/reconciliation/{shop.run_id}?kind={books.AMOUNT_MISMATCH}"
    assert ("/reconciliation", "Reconciliation") in parsed.links  # in the navigation


def _kind_words(kind: str) -> str:
    from hub.console.reconcile_table import kind_word

    return kind_word(kind)


def _money(minor: int) -> str:
    return f"{minor // 100:,}.{minor % 100:02d} USD"


def test_the_report_names_each_drift_with_its_ids_amounts_action_and_repair(shop: Books) -> None:
    m = shop.made
    head, rows, parsed = _report(shop, shop.client("olga@example.com"))
    assert head[:4] == ["What was found", "Where", "Order", "Refund"]
    items = [dict(zip(head, r, strict=True)) for r in rows]
    by = {(i["What was found"], i["Refund"] or i["Outside id"]): i for i in items}
    imported = next(r for (kind, _), r in by.items() if kind == _kind_words(books.UNKNOWN_AT_LEDGER))
    assert imported["Outside id"] == m.dashboard_refund
    assert imported["Order"] == "7101"  # the order its payment paid
    assert (imported["Where"], imported["Outside"], imported["In the hub"]) == ("Gateway stripe-main", "25.00 USD", "")
    assert re.fullmatch(
        r"Yes: imported as a recorded refund, \d{4}-\d\d-\d\d \d\d:\d\d UTC", imported["Repaired by the hub"]
    )
    assert imported["Suggested action"].startswith("Import it as a recorded refund")
    changed = by[(_kind_words(books.AMOUNT_MISMATCH), m.changed_amount)]
    assert (changed["In the hub"], changed["Outside"]) == (_money(5000), _money(4000))
    assert changed["Repaired by the hub"] == "No: for you to settle"
    failed = by[(_kind_words(books.STATE_MISMATCH), m.failed_later)]
    assert failed["Status (hub / outside)"] == "Refunded · recorded / failed"
    assert "came back" in failed["Suggested action"]
    assert by[(_kind_words(books.MISSING_AT_GATEWAY), m.vanished)]["Where"] == "Gateway stripe-main"
    queued = by[(_kind_words(books.PLATFORM_RECORD_MISSING), m.unwritten)]
    assert queued["Repaired by the hub"].startswith("Yes: write-back to the store queued, ")
    assert queued["Where"] == "Store (sandbox)"
    deleted = by[(_kind_words(books.PLATFORM_RECORD_MISSING), m.record_deleted)]
    assert (deleted["Repaired by the hub"], deleted["In the hub"]) == ("No: for you to settle", _money(1000))
    doubled = by[(_kind_words(books.PLATFORM_RECORD_DOUBLED), m.record_doubled)]
    assert (doubled["In the hub"], doubled["Outside"]) == (_money(1200), _money(2400))
    stray = by[(_kind_words(books.UNKNOWN_PLATFORM_RECORD), m.stray_record)]
    assert (stray["Order"], stray["Refund"], stray["Outside"]) == ("7106", "", _money(300))
    assert [i["Order"] for i in items if i["Refund"] == m.changed_amount] == ["7103"]
    assert len(doubled["Outside id"].split(", ")) == 2
    totals = [i for i in items if i["What was found"] == _kind_words(books.PAYMENT_TOTAL_MISMATCH)]
    assert sorted(i["Order"] for i in totals) == ["7102", "7103", "7104"]  # the payments' orders
    # a link to each refund the ledger knows and the person may open; none for the store's stray record
    refund_links = {href.rsplit("/", 1)[1] for href, _ in parsed.links if href.startswith("/refunds/")}
    assert {
        m.vanished,
        m.changed_amount,
        m.failed_later,
        m.unwritten,
        m.record_deleted,
        m.record_doubled,
    } <= refund_links
    for refund_id in refund_links:
        assert shop.client("olga@example.com").get(f"/refunds/{refund_id}").status_code == 200


def _csv(shop: Books, client: Any, query: str = "") -> list[list[str]]:
    answer = client.get(f"/reconciliation/{shop.run_id}.csv{query}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.is_streamed
    assert "attachment" in answer.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


@pytest.mark.parametrize("query", ["", f"?kind={books.PLATFORM_RECORD_MISSING}", f"?kind={books.AMOUNT_MISMATCH}"])
def test_the_csv_is_the_table_cell_for_cell(shop: Books, query: str) -> None:
    client = shop.client("anna@example.com")
    head, rows, _ = _report(shop, client, query)
    table = _csv(shop, client, query)
    assert table[0] == head
    assert table[1:] == rows
    assert len(rows) == {"": 11, "?kind=platform_record_missing": 2, "?kind=amount_mismatch": 1}[query]


def test_the_csv_streams_a_long_report_a_page_at_a_time(shop: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.console import reconcile_pages

    monkeypatch.setattr(reconcile_pages, "CSV_PAGE", 3)  # 11 items: four reads, same rows
    client = shop.client("anna@example.com")
    _, rows, _ = _report(shop, client)
    assert _csv(shop, client)[1:] == rows


def test_filters_by_kind_and_store(shop: Books) -> None:
    client = shop.client("olga@example.com")
    _, rows, _ = _report(shop, client, f"?kind={books.PLATFORM_RECORD_DOUBLED}")
    assert [r[0] for r in rows] == [_kind_words(books.PLATFORM_RECORD_DOUBLED)]
    listed = client.get(f"/reconciliation?kind={books.PLATFORM_RECORD_DOUBLED}&store={STORE}").text
    assert f"/reconciliation/{shop.run_id}" in listed
    assert f"/reconciliation/{shop.run_id}" not in client.get(f"/reconciliation?store={OTHER}").text
    bad = client.get(f"/reconciliation/{shop.run_id}?kind=everything")
    assert bad.status_code == 400
    assert "is not a kind of drift" in bad.text
    assert client.get(f"/reconciliation/{shop.run_id}.csv?kind=everything").status_code == 400


def test_who_may_see_the_reports(shop: Books) -> None:
    support = shop.client("sam@example.com")  # stores:read but not exports:read
    for path in ("/reconciliation", f"/reconciliation/{shop.run_id}", f"/reconciliation/{shop.run_id}.csv"):
        assert support.get(path).status_code == 403
    assert "/reconciliation" not in support.get("/queue").text  # no link in the navigation
    anonymous = shop.world.hub.app.test_client()
    assert anonymous.get("/reconciliation").status_code == 302


def test_another_tenants_run_is_a_404_page(shop: Books) -> None:
    ted = shop.client("ted@example.com")  # an owner, of the other store only
    listed = ted.get("/reconciliation")
    assert shop.run_id not in listed.text
    assert shop.other_run in listed.text
    assert "Not every side was compared" in listed.text
    own = ted.get(f"/reconciliation/{shop.other_run}")
    assert f"Not compared: {NOT_LISTED} Not compared: {NOT_READ}" in _text(own.text)  # one line per side
    assert "No differences" in own.text
    for path in (f"/reconciliation/{shop.run_id}", f"/reconciliation/{shop.run_id}.csv"):
        answer = ted.get(path)
        assert answer.status_code == 404
        assert "Not found" in answer.text
    olga = shop.client("olga@example.com")
    assert olga.get(f"/reconciliation/{shop.other_run}").status_code == 404
    assert olga.get("/reconciliation/rc_nothing").status_code == 404
    before = len(shop.runs())
    token = csrf_of(ted.get("/reconciliation").text)
    refused = ted.post("/reconciliation/run", data={"store": f"sandbox:{STORE}", "days": "30", "csrf_token": token})
    assert refused.status_code == 404
    assert len(shop.runs()) == before  # nothing was run for a store he cannot see


def test_only_an_owner_may_run_it_now(shop: Books) -> None:
    anna = shop.client("anna@example.com")
    page = anna.get("/reconciliation").text
    assert "Run reconciliation now" not in page
    token = csrf_of(page)
    before = len(shop.runs())
    answer = anna.post("/reconciliation/run", data={"store": f"sandbox:{STORE}", "days": "30", "csrf_token": token})
    assert answer.status_code == 403
    olga = shop.client("olga@example.com")
    assert olga.post("/reconciliation/run", data={"store": f"sandbox:{STORE}", "days": "30"}).status_code == 400
    token = csrf_of(olga.get("/reconciliation").text)
    for days in ("0", "91", "thirty", ""):
        again = olga.post("/reconciliation/run", data={"store": f"sandbox:{STORE}", "days": days, "csrf_token": token})
        assert again.status_code == 302
        assert "Choose a period of 1 to 90 days" in olga.get("/reconciliation").text
    assert len(shop.runs()) == before


def test_run_now_reconciles_as_the_command_does_and_repairs_nothing_twice(shop: Books) -> None:
    olga = shop.client("olga@example.com")
    page = olga.get("/reconciliation").text
    assert "Run reconciliation now" in page
    before = {r.id for r in shop.runs()}
    answer = olga.post(
        "/reconciliation/run", data={"store": f"sandbox:{STORE}", "days": "7", "csrf_token": csrf_of(page)}
    )
    assert answer.status_code == 302
    [new] = [r for r in shop.runs() if r.id not in before]
    assert answer.headers["Location"] == f"/reconciliation/{new.id}"
    assert (new.store_id, new.connector, new.finished_at is not None) == (STORE, "sandbox", True)
    assert abs(new.started_at - new.since - timedelta(days=7)) < timedelta(minutes=1)
    with read(shop.world.hub.hub.engine) as conn:
        olga_id = conn.execute(select(users.c.id).where(users.c.email == "olga@example.com")).scalar_one()
    assert (new.started_by, new.started_by_id) == ("user:olga@example.com", olga_id)
    shown = olga.get(answer.headers["Location"])
    assert "Reconciled gateway-store over 7 days" in _text(shown.text)
    assert "Run now by olga@example.com." in _text(shown.text)
    listed = _page(olga.get("/reconciliation").text)
    [(_, body)] = [t for name, t in listed.tables.items() if "rc-runs" in name]
    starters = {r[0].split(" UTC ", 1)[1].split(" Not every")[0] for r in body if r}
    assert starters == {"Run now by olga@example.com", "Scheduled or from the command line"}
    # the first run imported the dashboard refund: known now, no item; its write-back job has not
    # run yet: reported as repaired once already, with the first run's time, never queued again
    head, rows, _ = _report(Books(shop.world, shop.made, new.id, shop.other_run), olga)
    items = [dict(zip(head, r, strict=True)) for r in rows]
    assert not [i for i in items if i["What was found"] == _kind_words(books.UNKNOWN_AT_LEDGER)]
    [again] = [i for i in items if i["Refund"] == shop.made.unwritten]
    with read(shop.world.hub.hub.engine) as conn:
        made = books.repairs(conn, [(shop.made.unwritten, books.WRITE_BACK)])
    [repair] = made.values()
    assert repair.run_id == shop.run_id
    assert again["Repaired by the hub"] == (
        f"Repaired once already, {repair.at:%Y-%m-%d %H:%M} UTC; still drifting: needs a person"
    )
    assert new.counts[books.ALREADY_REPAIRED] == 1
    assert books.IMPORTED not in new.counts


def test_a_long_report_is_paged_each_item_once_in_the_order_found(shop: Books) -> None:
    from hub.console.reconcile_pages import REPORT_PAGE

    kinds = (books.MISSING_AT_GATEWAY, books.STATE_MISMATCH)
    drifts = [
        books.Drift(kinds[n % 3 == 0], "gateway:stripe-main", f"look at {n}", refund_id=f"rf_{n:06d}", currency="USD")
        for n in range(2 * REPORT_PAGE + 17)
    ]
    with write(shop.world.hub.hub.engine) as conn:
        run_id = books.start_run(conn, "reconcile", "sandbox", STORE, datetime.now(UTC) - timedelta(days=3))
        books.add_items(conn, run_id, drifts)
        counts = {kind: sum(1 for d in drifts if d.kind == kind) for kind in kinds}
        books.finish_run(conn, run_id, counts, None)
    client = shop.client("anna@example.com")
    long = Books(shop.world, shop.made, run_id, shop.other_run)
    for kind, wanted in ((None, drifts), (kinds[1], [d for d in drifts if d.kind == kinds[1]])):
        query, seen, pages = f"?kind={kind}" if kind else "", [], 0
        while True:
            head, rows, parsed = _report(long, client, query)
            pages += 1
            seen += [dict(zip(head, r, strict=True))["Refund"] for r in rows]
            nexts = [href for href, text in parsed.links if text == "Next differences →"]
            if not nexts:
                break
            query = nexts[0].split(f"/reconciliation/{run_id}", 1)[1]
            assert len(rows) == REPORT_PAGE
        assert seen == [d.refund_id for d in wanted]
        assert pages == -(-len(wanted) // REPORT_PAGE)
        last = _text(client.get(f"/reconciliation/{run_id}{query}").text)
        assert f"Differences {(pages - 1) * REPORT_PAGE + 1}–{len(wanted)} of {len(wanted)}" in last
        assert ("← First page" in last) == (pages > 1)
    bad = client.get(f"/reconciliation/{run_id}?after=bm90LWEtY3Vyc29y")
    assert bad.status_code == 400
    assert "after is not a cursor this hub gave out" in bad.text
