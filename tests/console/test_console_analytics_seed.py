"""A hub with a seeded ledger for the analytics pages' tests, and every figure of those pages
computed again here in plain Python over the seeded rows (never through ``hub.ledger.analytics``),
printed the way a merchant reads it. Its own tests: the SVG charts' shapes and words."""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from hub.console import analytics_charts as charts
from hub.contracts import StoreContext
from hub.db.tables import audit, refunds
from hub.db.tables_customer import feedback
from hub.errors import PlatformUnavailable
from hub.sandbox.connector import SandboxConnector
from hub.testing.harness import HubHarness
from tests.console.conftest import PASSWORD

MINE, SECOND, OTHER = "sandbox-store", "second-store", "other-store"
SINCE, UNTIL = date(2026, 11, 1), date(2026, 11, 30)  # the filter's days, both inclusive
PERIOD = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
SECRET = ("SECRET-SKU", "admin:intruder", "custom.other-tenant")  # only in the other tenant's rows
STATES = ("written_back", "written_back", "succeeded", "denied", "review", "offered", "failed", "recorded", "pending")
REASONS = ("damaged", "changed_mind", "size_or_fit", "fraud", "not_received")
ROUTES = ("gateway:sandbox", "platform")
RULES = (("window.physical", "approve"), ("abuse.velocity.email", "review"), ("amount.threshold", "review"))
MOVED = ("succeeded", "written_back", "pending")
WAITING = {"requested", "review", "offered", "approved", "executing", "pending", "unknown"}


class CountingSandbox(SandboxConnector):
    """The sandbox connector with a platform that knows its order counts (``ORDERS``); a store
    in ``DOWN`` answers as a platform that is down. ``asked`` records each question."""

    ORDERS: ClassVar[dict[str, int]] = {}
    DOWN: ClassVar[set[str]] = set()
    asked: ClassVar[list[tuple[str, datetime, datetime]]] = []

    def order_count(self, store: StoreContext, since: datetime, until: datetime) -> int | None:
        type(self).asked.append((store.id, since, until))
        if store.id in self.DOWN:
            raise PlatformUnavailable("the platform is down")
        return self.ORDERS.get(store.id)


@dataclass
class Seeded:
    harness: HubHarness
    rows: list[dict[str, Any]]
    trail: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    granted: tuple[str, ...] = (MINE, SECOND)
    orders: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.harness.url

    def person(self, email: str, role: str = "approver") -> str:
        accounts = self.harness.hub.accounts
        accounts.add_user(email, email.split("@")[0].capitalize(), role, PASSWORD)
        for store in self.granted:
            accounts.grant(email, "sandbox", store)
        return email


def _rows(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rows, trail, answers = [], [], []
    start = datetime(2026, 10, 25, tzinfo=UTC)  # a week before the period too
    for i in range(160):
        store = (MINE, SECOND, OTHER)[i % 3]
        theirs = store == OTHER
        state = rng.choice(STATES)
        amount = rng.randint(100, 20_000)
        partial = state in ("written_back", "succeeded") and rng.random() < 0.3
        approved = amount - rng.randint(1, 90) if partial else amount
        action = {"denied": "deny", "review": "review", "offered": "offer_alternative"}.get(state, "approve")
        if state in ("written_back", "denied") and rng.random() < 0.4:
            action = "review"
        created = start + timedelta(seconds=rng.randint(0, 42 * 86400))
        moved = state in ("written_back", "succeeded", "pending")
        executed = created + timedelta(seconds=rng.randint(3, 30_000)) if moved else None
        hits = rng.sample(RULES, rng.randint(0, 2)) + ([("custom.other-tenant", "info")] if theirs else [])
        skus = ("MUG", "TEE", "CAP", None) if not theirs else ("SECRET-SKU",)
        lines = [{"line_id": f"{i}-{k}", "sku": rng.choice(skus), "product_id": f"p{k}", "quantity": rng.randint(1, 3),
                  "unit_price": 100, "tax": 0} for k in range(rng.randint(0, 2))]  # fmt: skip
        row = {
            "id": f"rf_{i:05d}", "connector": "sandbox", "store_id": store, "source_ref": f"rq-{i}",
            "order_id": f"o{i // 2}", "kind": "recorded" if state == "recorded" else "requested", "state": state,
            "money_moved": state == "recorded" and rng.random() < 0.7, "amount": amount,
            "approved_amount": approved if state not in ("review", "offered", "denied") else None,
            "currency": rng.choice(("USD", "EUR")), "route": rng.choice(ROUTES), "idempotency_key": f"k{i}",
            "decision": None if state == "recorded" else {"decision": {
                "action": action, "amount": approved if action != "deny" else 0,
                "alternative": rng.choice(("store_credit", "exchange")) if action == "offer_alternative" else None,
                "rules": [{"rule": r, "effect": e, "detail": ""} for r, e in hits], "explanation": "",
                "policy_version": "v1", "line_amounts": []}},
            "request": {"reason": rng.choice(REASONS), "lines": lines}, "attempts": 0, "needs_person": False,
            "created_at": created, "updated_at": created, "executed_at": executed, "parent_id": None,
        }  # fmt: skip
        rows.append(row)
        if action == "review" and state in ("written_back", "denied"):
            actor = "admin:intruder" if theirs else rng.choice(("user:ana@example.com", "user:bo@example.com"))
            trail.append(
                {
                    "at": created,
                    "refund_id": row["id"],
                    "actor": actor,
                    "action": "reviewed",
                    "detail": {"state": "approved" if state == "written_back" else "denied"},
                }
            )
        if rng.random() < 0.4:
            answers.append(
                {
                    "refund_id": row["id"],
                    "rating": rng.randint(1, 5),
                    "comment": "",
                    "reason": rng.choice((None, "damaged")),
                    "detail": None,
                    "created_at": created,
                }
            )
    return rows, trail, answers


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    CountingSandbox.ORDERS, CountingSandbox.DOWN, CountingSandbox.asked = {MINE: 900, SECOND: 0}, set(), []
    stores = {s: {"connector": "sandbox", "policy": "default"} for s in (MINE, SECOND, OTHER)}
    harness = HubHarness(
        tmp_path,
        connectors={"sandbox": {"webhook_secret": "analytics"}},
        stores=stores,
        policies={"default": {}},
        plugins={"sandbox": CountingSandbox},
    )
    rows, trail, answers = _rows(random.Random(17))
    with harness.hub.engine.begin() as conn:
        conn.execute(sa.insert(refunds), rows)
        conn.execute(sa.insert(audit), trail)
        conn.execute(sa.insert(feedback), answers)
    try:
        yield Seeded(harness, rows, trail, answers, orders=dict(CountingSandbox.ORDERS))
    finally:
        harness.close()


# --- the figures, again, in plain Python ---------------------------------------------------


def money(minor: int, currency: str) -> str:
    whole, cents = divmod(minor, 100)
    return f"{whole:,}.{cents:02d} {currency}"


def amounts(by: dict[str, int]) -> str:
    return "; ".join(money(v, c) for c, v in sorted(by.items()) if v) or "—"


def duration(seconds: float) -> str:
    days, rest = divmod(round(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def refunded(row: dict[str, Any]) -> int:
    if row["state"] in ("succeeded", "written_back"):
        return int(row["approved_amount"])
    return int(row["amount"]) if row["state"] == "recorded" and row["money_moved"] else 0


def decision(row: dict[str, Any]) -> dict[str, Any]:
    return dict((row["decision"] or {}).get("decision") or {})


def expected(seed: Seeded, store: str | None = None) -> dict[str, list[tuple[str, ...]]]:
    """Every table of the analytics pages for ``seed``'s granted stores (or one of them) in the period."""
    start = datetime.combine(SINCE, datetime.min.time(), UTC)
    end = datetime.combine(UNTIL + timedelta(days=1), datetime.min.time(), UTC)
    stores = (store,) if store else seed.granted
    mine = [r for r in seed.rows if r["store_id"] in stores and start <= r["created_at"] < end]
    found: dict[str, list[tuple[str, ...]]] = {}

    def grouped(key: Any, word: Any = str) -> list[tuple[str, ...]]:
        n = Counter(key(r) for r in mine)
        paid: dict[str, Counter[str]] = defaultdict(Counter)
        for r in mine:
            paid[key(r)][r["currency"]] += refunded(r)
        total = sum(n.values())
        return [(word(k), f"{c:,}", f"{c / total:.1%}", amounts(paid[k])) for k, c in ranked(n)]

    days = [SINCE + timedelta(days=d) for d in range((UNTIL - SINCE).days + 1)]
    per_day = {d: [r for r in mine if r["created_at"].date() == d] for d in days}
    found["trend"] = [(d.isoformat(), f"{len(rs):,}", amounts(_sum_by_currency(rs))) for d, rs in per_day.items()]

    found["money"] = []
    for currency in sorted({r["currency"] for r in mine}):
        rs = [r for r in mine if r["currency"] == currency]
        credit = [
            r
            for r in rs
            if r["state"] == "offered"
            and decision(r).get("action") == "offer_alternative"
            and decision(r).get("alternative") == "store_credit"
        ]
        parts = (
            sum(refunded(r) for r in rs),
            sum(r["amount"] - r["approved_amount"] for r in rs if r["state"] in ("succeeded", "written_back")),
            sum(r["amount"] for r in rs if r["state"] == "denied"),
            sum(decision(r)["amount"] for r in credit),
            sum(r["amount"] for r in rs if r["state"] in WAITING and r not in credit),
            sum(r["amount"] for r in rs if r["state"] == "failed"),
        )
        found["money"].append(
            (
                currency,
                f"{len(rs):,}",
                money(sum(r["amount"] for r in rs), currency),
                *(money(p, currency) for p in parts),
            )
        )

    found["rate"] = []
    for s in sorted(stores):
        rs = [r for r in mine if r["store_id"] == s]
        orders = seed.orders.get(s)
        rate = f"{len(rs) / orders:.2%}" if orders else "—"
        shown = f"{orders:,}" if orders is not None else "—"
        found["rate"].append((s, "sandbox", f"{len(rs):,}", f"{len({r['order_id'] for r in rs}):,}", shown, rate))

    found["reasons"] = grouped(lambda r: r["request"]["reason"], lambda k: k.replace("_", " ").capitalize())
    named: dict[str, set[str]] = defaultdict(set)
    units: Counter[str] = Counter()
    for r in mine:
        for line in r["request"]["lines"]:
            named[line["sku"] or line["product_id"]].add(r["id"])
            units[line["sku"] or line["product_id"]] += line["quantity"]
    top = sorted(named, key=lambda k: (-len(named[k]), k))[:20]
    found["products"] = [(k, f"{len(named[k]):,}", f"{units[k]:,}") for k in top]
    found["platforms"] = grouped(lambda r: r["connector"])
    found["gateways"] = grouped(lambda r: r["route"], route_word)
    found["stores"] = grouped(lambda r: r["store_id"])

    return {**found, **_operations(seed, mine)}


def _operations(seed: Seeded, mine: list[dict[str, Any]]) -> dict[str, list[tuple[str, ...]]]:
    """The tables of the speed, review and policy page."""
    ids = {r["id"] for r in mine}
    found: dict[str, list[tuple[str, ...]]] = {"timing": []}
    moved = [r for r in mine if r["executed_at"] and r["kind"] == "requested" and r["state"] in MOVED]
    for route in sorted({r["route"] for r in moved}):
        waits = sorted((r["executed_at"] - r["created_at"]).total_seconds() for r in moved if r["route"] == route)
        found["timing"].append(
            (
                route_word(route),
                f"{len(waits):,}",
                duration(statistics.fmean(waits)),
                duration(nearest(waits, 5)),
                duration(nearest(waits, 9)),
                duration(waits[-1]),
            )
        )

    sent = [r for r in mine if decision(r).get("action") == "review"]
    waiting, denied = sum(r["state"] == "review" for r in sent), sum(r["state"] == "denied" for r in sent)
    found["review"] = [
        ("Sent to a person", f"{len(sent):,}"),
        ("Still waiting", f"{waiting:,}"),
        ("Approved", f"{len(sent) - waiting - denied:,}"),
        ("Denied", f"{denied:,}"),
    ]
    people: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in seed.trail:
        if entry["refund_id"] in ids:
            people[entry["actor"]][0 if entry["detail"]["state"] == "approved" else 1] += 1
    found["reviewers"] = [(who, f"{y:,}", f"{n:,}", f"{y + n:,}") for who, (y, n) in sorted(people.items())]

    fired = Counter(hit for r in mine for hit in {(h["rule"], h["effect"]) for h in decision(r).get("rules", [])})
    found["rules"] = [(rule, effect, f"{n:,}") for (rule, effect), n in ranked(fired)]
    flags = {rule: n for (rule, _), n in fired.items() if rule.startswith("abuse.")}
    if said := sum(r["request"]["reason"] == "fraud" for r in mine):
        flags["reason given: fraud"] = said
    found["fraud"] = [(flag, f"{n:,}") for flag, n in ranked(flags)]

    given = [a for a in seed.answers if a["refund_id"] in ids]
    ratings = Counter(a["rating"] for a in given)
    other = Counter(a["rating"] for a in given if a["reason"])
    found["feedback"] = [
        (f"{k} of 5", f"{ratings[k]:,}", f"{ratings[k] / len(given):.1%}", f"{other[k]:,}") for k in sorted(ratings)
    ]
    return found


def ranked(counts: Any) -> list[tuple[Any, int]]:
    """Most first, then by key: the order of every count table."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def nearest(values: list[float], tenths: int) -> float:
    """The nearest-rank percentile (``tenths``/10) of sorted ``values``: the ⌈p·n⌉-th."""
    return values[max(0, -(-tenths * len(values) // 10) - 1)]


def route_word(route: str) -> str:
    return "the platform itself" if route == "platform" else route.removeprefix("gateway:")


def _sum_by_currency(rows: list[dict[str, Any]]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for r in rows:
        found[r["currency"]] += refunded(r)
    return dict(found)


# --- the charts' own tests ------------------------------------------------------------------


def test_a_bar_chart_is_an_image_with_its_words() -> None:
    items = [charts.Bar("Damaged", 3, "3"), charts.Bar("Other <x>", 1, "1")]
    svg = charts.bars("Refunds by reason", "Damaged: 3 refunds", items)
    assert svg.startswith('<svg class="chart"')
    assert 'role="img"' in svg
    assert re.search(r'aria-labelledby="(chart-\d+-t) (chart-\d+-d)"', svg)
    assert "<title" in svg
    assert "<desc" in svg
    assert "Damaged: 3 refunds" in svg
    assert svg.count('class="chart-bar"') == 2
    assert "Other &lt;x&gt;" in svg
    assert "<x>" not in svg
    widths = [float(w) for w in re.findall(r'class="chart-bar"[^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(3 * widths[1])  # bars to scale


def test_a_trend_has_a_dot_per_period_and_round_grid_lines() -> None:
    points = [charts.Bar(f"2026-11-{d:02d}", v, str(v)) for d, v in enumerate((0, 7, 3, 12), start=1)]
    svg = charts.trend("Refunds per day", "22 refunds", points)
    assert svg.count("<circle") == 4
    assert [float(t) for t in re.findall(r'class="chart-axis"[^>]*text-anchor="end">([\d.]+)<', svg)] == [0, 5, 10, 15]
    assert "2026-11-01" in svg
    assert "2026-11-04" in svg
    assert charts.nice_step(0) == 1
    assert charts.nice_step(12) == 5
    assert charts.nice_step(1800) == 500


def test_a_stacked_bar_splits_by_share_with_a_legend() -> None:
    names = ("Refunded", "Kept")
    parts = [charts.Segment("Refunded", 1, "1.00 USD"), charts.Segment("Kept", 3, "3.00 USD")]
    svg = charts.stacked("Money", "1 of 4 refunded", [("USD", parts)], names)
    bars = r'<rect class="chart-seg-\d" x="[\d.]+" y="\d+" width="([\d.]+)" height="22"'
    first, second = (float(w) for w in re.findall(bars, svg))
    assert second == pytest.approx(3 * first)
    assert "(25%)" in svg
    assert "(75%)" in svg
    assert svg.count('class="chart-legend"') == 2
