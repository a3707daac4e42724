"""The audit report: refunds outside policy, overrides by person, approvals above the threshold,
reviews older than the SLA — each computed from a seeded trail, and stored by the janitor's duty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.db.tables import refunds
from hub.ledger import audit, audit_report, states
from hub.ledger import refunds as ledger
from hub.ledger.unit import read
from hub.outgoing.report import audit_report_duty, report
from hub.runtime.bootstrap import Hub
from tests.ledger.conftest import request
from tests.outgoing.conftest import make_hub


@pytest.fixture
def hub(tmp_path: Any) -> Hub:
    return make_hub(tmp_path, audit={"approval_threshold": 2000, "review_sla_hours": 24})


def refund(hub: Hub, ref: str, state: str, *, kind: str = "requested", money_moved: bool = False, **at: Any) -> str:
    with hub.engine.begin() as conn:
        refund_id = ledger.open_refund(conn, request(ref), kind=kind, state=state, money_moved=money_moved)[0]
        if at:
            conn.execute(sa.update(refunds).where(refunds.c.id == refund_id).values(**at))
        return refund_id


def decided(hub: Hub, refund_id: str, verdict: str, state: str, amount: int) -> None:
    with hub.engine.begin() as conn:
        audit.write(conn, "policy", "decided", refund_id=refund_id, verdict=verdict, state=state, amount=amount)


def reviewed(hub: Hub, refund_id: str, who: str, state: str, amount: int | None) -> None:
    with hub.engine.begin() as conn:
        audit.write(conn, who, "reviewed", refund_id=refund_id, state=state, amount=amount, note="")


def seeded(hub: Hub) -> dict[str, str]:
    ids = {}
    ids["asked"] = refund(hub, "rq-asked", states.REVIEW)
    decided(hub, ids["asked"], "review", states.REVIEW, 1000)
    reviewed(hub, ids["asked"], "admin:alice", states.APPROVED, 1000)  # the policy asked a person: no override
    ids["big"] = refund(hub, "rq-big", states.APPROVED)
    decided(hub, ids["big"], "approve", states.APPROVED, 3000)
    ids["held"] = refund(hub, "rq-held", states.REVIEW)
    decided(hub, ids["held"], "approve", states.REVIEW, 1500)
    reviewed(hub, ids["held"], "admin:bob", states.DENIED, None)  # denied what the policy approved
    ids["offered"] = refund(hub, "rq-offered", states.OFFERED)
    decided(hub, ids["offered"], "offer_alternative", states.OFFERED, 0)
    reviewed(hub, ids["offered"], "admin:alice", states.APPROVED, 2500)  # money instead of the alternative
    ids["waiting"] = refund(hub, "rq-waiting", states.REVIEW, created_at=datetime.now(UTC) - timedelta(days=3))
    ids["outside"] = refund(hub, "rq-outside", states.RECORDED, kind="recorded", money_moved=True)
    refund(hub, "rq-outside-nothing", states.RECORDED, kind="recorded")  # recorded, no money moved
    return ids


def test_the_report_finds_each_kind_of_finding(hub: Hub) -> None:
    ids = seeded(hub)
    now = datetime.now(UTC)
    [(store, found)] = report(hub, now - timedelta(days=7), now + timedelta(seconds=1)).items()
    assert store == "s1"
    assert [(o["refund_id"], o.get("why")) for o in found["outside_policy"]] == [
        (ids["asked"], "approved by admin:alice; the policy said review"),
        (ids["offered"], "approved by admin:alice; the policy said offer_alternative"),
        (ids["outside"], "made outside the hub"),
    ]
    assert {
        who: (o["overrides"], o["approved"], o["denied"], o["refunds"]) for who, o in found["overrides"].items()
    } == {
        "admin:alice": (1, 1, 0, [ids["offered"]]),
        "admin:bob": (1, 0, 1, [ids["held"]]),
    }
    assert [(a["refund_id"], a["amount"]) for a in found["approvals_above_threshold"]] == [
        (ids["big"], 3000),
        (ids["offered"], 2500),
    ]
    assert [r["refund_id"] for r in found["reviews_over_sla"]] == [ids["waiting"]]
    assert found["counts"] == {
        "outside_policy": 3,
        "overrides": 2,
        "approvals_above_threshold": 2,
        "reviews_over_sla": 1,
    }


def test_a_period_without_the_entries_reports_none_of_them(hub: Hub) -> None:
    seeded(hub)
    long_ago = datetime.now(UTC) - timedelta(days=30)
    assert report(hub, long_ago - timedelta(days=7), long_ago) == {}
    two_days_ago = datetime.now(UTC) - timedelta(days=2)  # the waiting review was a day over its SLA then
    [found] = report(hub, two_days_ago - timedelta(days=1), two_days_ago).values()
    assert found["counts"] == {
        "outside_policy": 0,
        "overrides": 0,
        "approvals_above_threshold": 0,
        "reviews_over_sla": 1,
    }


def test_the_janitor_duty_stores_the_weeks_report(hub: Hub) -> None:
    seeded(hub)
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert audit_report_duty(hub, now)["audit_reports"] == 1
    with read(hub.engine) as conn:
        [stored] = audit_report.saved(conn, "s1")
    assert stored["content"]["counts"]["overrides"] == 2
    assert stored["until"].replace(tzinfo=UTC) == now.replace(tzinfo=UTC)
