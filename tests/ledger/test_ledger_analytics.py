"""The analytics read models against a seeded ledger, each figure computed again here from the
seed itself (plain Python over the rows written), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.migrate import upgrade
from hub.db.tables import audit, refunds
from hub.db.tables_analytics import analytics_dirty
from hub.ledger import analytics, analytics_rollup
from hub.ledger.people import StoreScope

NOW = datetime(2026, 11, 30, tzinfo=UTC)
SINCE, UNTIL = NOW - timedelta(days=30), NOW
STATES = ("written_back", "succeeded", "denied", "review", "offered", "failed", "recorded", "pending", "approved")
REASONS = ("damaged", "changed_mind", "size_or_fit", "not_received")
STORES = (("shopify", "s1.myshopify.com"), ("woocommerce", "w1"), ("shopify", "s2.myshopify.com"))
ROUTES = ("gateway:stripe-main", "gateway:paypal-main", "platform")
RULES = (("window.physical", "approve"), ("amount.threshold", "review"), ("custom.vip", "info"))


def _seed(rng: random.Random, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, trail = [], []
    for i in range(n):
        connector, store_id = STORES[i % len(STORES)]
        state = rng.choice(STATES)
        amount = rng.randint(500, 20_000)
        partial = state in ("written_back", "succeeded") and rng.random() < 0.3
        approved = amount - rng.randint(1, 400) if partial else amount
        action = {"denied": "deny", "review": "review", "offered": "offer_alternative"}.get(state, "approve")
        if state in ("written_back", "denied") and rng.random() < 0.3:
            action = "review"  # sent to a person, who decided
        alternative = rng.choice(("store_credit", "exchange")) if action == "offer_alternative" else None
        created = NOW - timedelta(days=rng.uniform(0, 40))  # some before the period
        executed = (
            created + timedelta(seconds=rng.randint(5, 7200))
            if state in ("written_back", "succeeded", "pending")
            else None
        )
        lines = [{"line_id": f"{i}-{k}", "sku": rng.choice(("MUG", "TEE", "CAP", None)), "product_id": f"p{k}",
                  "quantity": rng.randint(1, 3), "unit_price": 100, "tax": 0}
                 for k in range(rng.randint(0, 3))]  # fmt: skip
        hits = rng.sample(RULES, rng.randint(0, 2))
        row: dict[str, Any] = {
            "id": f"rf_{i:06d}", "connector": connector, "store_id": store_id, "source_ref": f"rq-{i}",
            "order_id": f"o{i // 2}", "kind": "recorded" if state == "recorded" else "requested", "state": state,
            "money_moved": state == "recorded" and rng.random() < 0.8, "amount": amount,
            "approved_amount": approved if state not in ("review", "offered", "denied") else None,
            "currency": rng.choice(("USD", "EUR")), "route": rng.choice(ROUTES), "idempotency_key": f"k{i}",
            "decision": None if state == "recorded" else {"decision": {
                "action": action, "amount": approved if action != "deny" else 0, "alternative": alternative,
                "rules": [{"rule": rule, "effect": effect, "detail": ""} for rule, effect in hits],
                "explanation": "", "policy_version": "v1", "line_amounts": []}},
            "request": {"reason": rng.choice(REASONS), "lines": lines}, "attempts": 0, "needs_person": False,
            "created_at": created, "updated_at": created, "executed_at": executed, "parent_id": None,
        }  # fmt: skip
        rows.append(row)
        if action == "review" and state in ("written_back", "denied"):
            verdict = "approved" if state == "written_back" else "denied"
            trail.append({"at": created, "refund_id": row["id"], "actor": rng.choice(("admin:ann", "admin:bo")),
                          "action": "reviewed", "detail": {"state": verdict}})  # fmt: skip
    # a refund split across two tenders: counted once, its parts move the money
    parent = dict(rows[0], id="rf_split", source_ref="rq-split", idempotency_key="k-split", route="tenders",
                  state="written_back", amount=3000, approved_amount=3000, created_at=NOW - timedelta(days=1),
                  executed_at=None, currency="USD")  # fmt: skip
    rows.append(parent)
    for k, (route, share) in enumerate((("gateway:stripe-main", 2000), ("platform", 1000))):
        rows.append(dict(parent, id=f"rf_part{k}", source_ref=f"rq-split-{k}", idempotency_key=f"k-part{k}",
                         route=route, amount=share, approved_amount=share, parent_id="rf_split", decision=None,
                         executed_at=parent["created_at"] + timedelta(seconds=60 * (k + 1))))  # fmt: skip
    return rows, trail


@pytest.fixture(params=["ledger", "rollup"])
def seeded(
    any_engine: sa.Engine, request: pytest.FixtureRequest
) -> tuple[sa.Engine, list[dict[str, Any]], list[dict[str, Any]]]:
    """The seed, read from the ledger (every store-day still in the rollup's log) or from the
    rollup built by the ``analytics`` duty."""
    upgrade(any_engine)
    rows, trail = _seed(random.Random(11), 400)
    with any_engine.begin() as conn:
        conn.execute(sa.insert(refunds), rows)
        conn.execute(sa.insert(audit), trail)
    built(any_engine, request.param == "rollup")
    return any_engine, rows, trail


def built(engine: sa.Engine, rollup: bool) -> None:
    """``rollup``: every logged store-day rebuilt, and the figures then read from the rollup."""
    if rollup:
        assert analytics_rollup.refresh(engine) > 0
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(analytics_dirty)).scalar_one() == 0


def _in(row: dict[str, Any], *, parts: bool = False, store: str | None = None) -> bool:
    return (
        SINCE <= row["created_at"] < UNTIL and (parts or row["parent_id"] is None) and store in (None, row["store_id"])
    )


def _refunded(row: dict[str, Any]) -> int:
    if row["state"] in ("succeeded", "written_back"):
        return row["approved_amount"] if row["approved_amount"] is not None else row["amount"]
    return row["amount"] if row["state"] == "recorded" and row["money_moved"] else 0


def _run(engine: sa.Engine, figure: Any, *args: Any, **kwargs: Any) -> Any:
    with engine.connect() as conn:
        return figure(conn, *args, **kwargs)


def test_refund_rate_counts_refunds_and_orders_per_store(seeded: Any) -> None:
    engine, rows, _ = seeded
    mine = [row for row in rows if _in(row)]
    counted = Counter((row["connector"], row["store_id"]) for row in mine)
    orders = {
        key: len({row["order_id"] for row in mine if (row["connector"], row["store_id"]) == key}) for key in counted
    }
    given = {("woocommerce", "w1"): 1000}
    found = _run(engine, analytics.refund_rate, analytics.Slice(SINCE, UNTIL), given)
    assert [(f.connector, f.store_id, f.refunds, f.orders_with_refunds) for f in found] == [
        (c, s, counted[(c, s)], orders[(c, s)]) for c, s in sorted(counted)
    ]
    by_store = {f.store_id: f for f in found}
    assert by_store["w1"].rate == counted[("woocommerce", "w1")] / 1000
    assert by_store["s1.myshopify.com"].rate is None  # no platform order count: no rate


def test_money_refunded_and_retained_per_currency(seeded: Any) -> None:
    engine, rows, _ = seeded
    expected = {}
    for currency in ("EUR", "USD"):
        mine = [row for row in rows if _in(row) and row["currency"] == currency]
        credit = [
            r for r in mine if r["state"] == "offered" and r["decision"]["decision"]["alternative"] == "store_credit"
        ]
        expected[currency] = analytics.MoneyRow(
            currency, len(mine), sum(r["amount"] for r in mine), sum(_refunded(r) for r in mine),
            sum(r["amount"] - r["approved_amount"] for r in mine if r["state"] in ("succeeded", "written_back")),
            sum(r["amount"] for r in mine if r["state"] == "denied"),
            sum(r["decision"]["decision"]["amount"] for r in credit),
            sum(r["amount"] for r in mine if r["state"] in analytics.WAITING and r not in credit),
            sum(r["amount"] for r in mine if r["state"] == "failed"),
        )  # fmt: skip
    assert _run(engine, analytics.money, analytics.Slice(SINCE, UNTIL)) == [expected["EUR"], expected["USD"]]
    assert expected["USD"].partial_retained > 0
    assert expected["USD"].store_credit > 0


def test_top_reasons_and_breakdowns(seeded: Any) -> None:
    engine, rows, _ = seeded
    mine = [row for row in rows if _in(row)]
    counts = Counter(row["request"]["reason"] for row in mine)
    found = _run(engine, analytics.top_reasons, analytics.Slice(SINCE, UNTIL), limit=3)
    assert [(f.key, f.refunds) for f in found] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    money: dict[str, Counter[str]] = defaultdict(Counter)
    for row in mine:
        money[row["request"]["reason"]][row["currency"]] += _refunded(row)
    assert all(f.refunded == {c: v for c, v in money[f.key].items() if v} for f in found)

    platforms = _run(engine, analytics.breakdown, analytics.Slice(SINCE, UNTIL), "platform")
    assert {f.key: f.refunds for f in platforms} == dict(Counter(row["connector"] for row in mine))
    gateways = _run(engine, analytics.breakdown, analytics.Slice(SINCE, UNTIL), "gateway")
    moved = [row for row in rows if _in(row, parts=True) and row["route"] != "tenders"]
    assert {f.key: f.refunds for f in gateways} == dict(Counter(row["route"] for row in moved))
    one = _run(engine, analytics.breakdown, analytics.Slice(SINCE, UNTIL, store_id="w1"), "store")
    assert [(f.key, f.refunds) for f in one] == [("woocommerce:w1", sum(1 for r in mine if r["store_id"] == "w1"))]
    with pytest.raises(ValueError, match="breakdown by"):
        _run(engine, analytics.breakdown, analytics.Slice(SINCE, UNTIL), "colour")


def test_products_by_refund_count(seeded: Any) -> None:
    engine, rows, _ = seeded
    refunds_of: dict[str, set[str]] = defaultdict(set)
    units: Counter[str] = Counter()
    for row in rows:
        if _in(row):
            for line in row["request"]["lines"]:
                key = line["sku"] or line["product_id"]
                refunds_of[key].add(row["id"])
                units[key] += line["quantity"]
    ranked = sorted(refunds_of, key=lambda k: (-len(refunds_of[k]), k))[:5]
    found = _run(engine, analytics.products, analytics.Slice(SINCE, UNTIL), limit=5)
    assert [(f.sku, f.refunds, f.units) for f in found] == [(k, len(refunds_of[k]), units[k]) for k in ranked]


def test_rules_fired(seeded: Any) -> None:
    engine, rows, _ = seeded
    fired: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if _in(row) and row["decision"]:
            for hit in {(h["rule"], h["effect"]) for h in row["decision"]["decision"]["rules"]}:
                fired[hit] += 1
    found = _run(engine, analytics.rules_fired, analytics.Slice(SINCE, UNTIL))
    assert sorted((f.rule, f.effect, f.refunds) for f in found) == sorted((r, e, n) for (r, e), n in fired.items())


def test_time_from_request_to_money(seeded: Any) -> None:
    engine, rows, _ = seeded
    found = {f.route: f for f in _run(engine, analytics.time_to_money, analytics.Slice(SINCE, UNTIL))}
    for route in ROUTES:
        waits = sorted(
            (row["executed_at"] - row["created_at"]).total_seconds() for row in rows
            if _in(row, parts=True) and row["route"] == route and row["executed_at"] and row["kind"] == "requested"
            and row["state"] in ("succeeded", "written_back", "pending")
        )  # fmt: skip
        got = found[route]
        assert got.refunds == len(waits)
        assert got.average_seconds == pytest.approx(statistics.fmean(waits), abs=0.01)
        assert got.median_seconds == pytest.approx(waits[(len(waits) + 1) // 2 - 1], abs=0.01)  # nearest rank
        assert got.p90_seconds == pytest.approx(waits[-(-9 * len(waits) // 10) - 1], abs=0.01)
        assert got.longest_seconds == pytest.approx(waits[-1], abs=0.01)


def test_review_workload_and_outcomes(seeded: Any) -> None:
    engine, rows, trail = seeded
    sent = [r for r in rows if _in(r) and r["decision"] and r["decision"]["decision"]["action"] == "review"]
    found = _run(engine, analytics.review, analytics.Slice(SINCE, UNTIL))
    assert (found.sent_to_review, found.waiting, found.denied) == (
        len(sent), sum(r["state"] == "review" for r in sent), sum(r["state"] == "denied" for r in sent),
    )  # fmt: skip
    assert found.approved == len(sent) - found.waiting - found.denied
    people: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    inside = {r["id"] for r in rows if _in(r)}
    for entry in trail:
        if entry["refund_id"] in inside:
            people[entry["actor"]][0 if entry["detail"]["state"] == "approved" else 1] += 1
    assert found.by_person == {who: tuple(n) for who, n in sorted(people.items())}


def test_a_scope_sees_only_its_stores(seeded: Any) -> None:
    engine, rows, _ = seeded
    scope = StoreScope(stores=frozenset({("woocommerce", "w1")}))
    found = _run(engine, analytics.breakdown, analytics.Slice(SINCE, UNTIL, scope=scope), "store")
    assert [f.key for f in found] == ["woocommerce:w1"]
    assert _run(engine, analytics.money, analytics.Slice(SINCE, UNTIL, connector="magento")) == []
