"""Notices at every step through a whole hub on the sandbox platform: each state change owes the
customer one notice per channel, the e-mail reaches a real SMTP server with the timeline, a
refused message is retried and its failure audited, and nothing is ever "told" that did not go out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.contracts import DecisionNotice, RecordResult
from hub.db.tables import jobs
from hub.ledger import notices, states
from hub.ledger.outbox import JobKind, JobRun
from hub.ledger.unit import read, write
from hub.pipeline import notify
from tests.customer.conftest import Mailbox, html_of, text_of
from tests.hub.conftest import World, make_world

ADMIN = {"Authorization": "Bearer test-admin-token"}
BUYER = "buyer@example.com"


@pytest.fixture
def shop(tmp_path: Path, with_email: Callable[[Any], None]) -> Iterator[World]:
    for world in make_world(tmp_path):
        with_email(world.hub)
        yield world


def owed(world: World, refund_id: str) -> list[notices.Notice]:
    with read(world.hub.hub.engine) as conn:
        return notices.of_refund(conn, refund_id)


def told(world: World, refund_id: str) -> list[tuple[str, str]]:
    return [
        (a.detail["step"], a.detail["channel"]) for a in world.hub.audit(refund_id) if a.action == "customer_notified"
    ]


def request(world: World, order_id: str, captured: int, asked: int) -> Any:
    world.order(order_id, captured)
    world.platform.request_refund(order_id, asked, request_id=f"rq-{order_id}")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [refund] = [r for r in world.hub.refunds() if r.order_id == order_id]
    return refund


def test_an_approved_refund_tells_received_approved_and_completed_by_email_with_the_timeline(
    shop: World, mailbox: Mailbox
) -> None:
    refund = request(shop, "7001", 2500, 2500)
    assert refund.state == states.WRITTEN_BACK

    steps = [m["Subject"] for m in mailbox.to(BUYER)]
    assert steps == [
        "We received your refund request for order 7001",
        "Your refund for order 7001 is approved",
        "Your refund for order 7001 is on its way",
    ]
    approved, completed = text_of(mailbox.messages[1]), text_of(mailbox.messages[2])
    assert "Your refund of 25.00 USD for order 7001 is approved" in approved
    # the sandbox gateway has no row in the table: the platform's default wording
    assert "5–10 business days" in approved
    # the timeline so far, oldest first, and a signed link to follow it
    assert completed.index("Request received") < completed.index("Approved") < completed.index("Refund sent")
    assert "/customer/status/" in completed
    assert "/customer/feedback/" in completed
    assert "<strong>25.00 USD</strong>" in html_of(mailbox.messages[2])
    assert mailbox.messages[0]["From"] == "refunds@shop.example"

    # the platform channel: the sandbox platform has none, said as such, never "told"
    assert told(shop, refund.id) == [("received", "email"), ("approved", "email"), ("completed", "email")]
    skipped = [a.detail for a in shop.hub.audit(refund.id) if a.action == "customer_not_notified"]
    assert {(d["step"], d["channel"]) for d in skipped} == {
        ("received", "platform"),
        ("approved", "platform"),
        ("completed", "platform"),
    }
    # what the audit says went out is what the server received (signed links masked)
    sent = next(a.detail for a in shop.hub.audit(refund.id) if a.action == "customer_notified")
    assert sent["subject"] == mailbox.messages[0]["Subject"]
    on_the_wire = text_of(mailbox.messages[0]).replace("\r\n", "\n")
    assert sent["body"].split("Follow it")[0] == on_the_wire.split("Follow it")[0]
    assert "[signed link]" in sent["body"]

    shop.hub.settle(senders=[shop.platform.sender])  # nothing is owed twice
    assert len(mailbox.messages) == 3
    assert len(owed(shop, refund.id)) == 6


def test_a_reviewers_denial_reaches_the_customer_on_the_platform_and_by_email(shop: World, mailbox: Mailbox) -> None:
    platform_notes: list[DecisionNotice] = []
    connector = shop.hub.hub.connectors["sandbox"]

    class Telling(type(connector)):  # type: ignore[misc]
        def notify_decision(self, store: Any, notice: DecisionNotice) -> RecordResult:
            platform_notes.append(notice)
            return RecordResult(reference=f"note-{len(platform_notes)}")

    connector.__class__ = Telling
    refund = request(shop, "7002", 1000, 3500)  # more than captured: a person decides
    assert refund.state == states.REVIEW
    answer = shop.hub.client.post(
        f"/api/refunds/{refund.id}/deny", json={"note": "The item came back worn."}, headers=ADMIN
    )
    assert answer.json["state"] == states.DENIED
    shop.hub.settle()

    assert [n.step for n in platform_notes] == ["received", "in_review", "denied"]
    review_text = platform_notes[1].explanation
    assert "within 2 business days" in review_text
    assert "/customer/" not in review_text
    denial = platform_notes[2]
    assert denial.decision == "deny"
    assert "The item came back worn." in denial.explanation
    assert "What you can do next" in denial.explanation

    [_, in_review, denied] = mailbox.to(BUYER)
    assert "is being reviewed" in str(in_review["Subject"])
    assert "The item came back worn." in text_of(denied)
    assert "Not approved after review" in text_of(denied)
    assert told(shop, refund.id) == [
        ("received", "platform"),
        ("received", "email"),
        ("in_review", "platform"),
        ("in_review", "email"),
        ("denied", "platform"),
        ("denied", "email"),
    ]


def test_a_refused_message_is_retried_and_every_failure_is_audited(shop: World, mailbox: Mailbox) -> None:
    mailbox.refuse = 2  # the SMTP server answers 451 twice, then takes it
    shop.order("7003", 1200)
    shop.platform.request_refund("7003", 1200, request_id="rq-7003")
    shop.hub.settle(senders=[shop.platform.sender, shop.gateway.sender], timeout=30)
    [refund] = shop.hub.refunds()

    failures = [a.detail for a in shop.hub.audit(refund.id) if a.action == "customer_notice_failed"]
    assert len(failures) == 2
    assert all("451" in f["error"] and f["final"] is False for f in failures)
    email_notices = [n for n in owed(shop, refund.id) if n.channel == "email"]
    assert {n.state for n in email_notices} == {notices.SENT}
    # each message arrived once, however often it was refused on the way
    assert sorted(str(m["Subject"]) for m in mailbox.messages) == sorted(str(n.subject) for n in email_notices)
    assert sum(n.attempts for n in email_notices) == len(email_notices) + 2


def test_a_notice_that_keeps_failing_is_given_up_and_never_told(shop: World, mailbox: Mailbox) -> None:
    shop.hub.config.email.port = 1  # nothing listens there
    shop.order("7004", 900)
    shop.platform.request_refund("7004", 900, request_id="rq-7004")
    shop.hub.settle(senders=[shop.platform.sender, shop.gateway.sender])
    [refund] = shop.hub.refunds()
    [received] = [n for n in owed(shop, refund.id) if n.channel == "email" and n.step == "received"]
    while received.state == notices.PENDING:  # the job's retries, without waiting out the backoff
        try:
            notify.send_notice(shop.hub.hub, str(received.id))
        except notify.NoticeFailed:
            pass
        [received] = [n for n in owed(shop, refund.id) if n.id == received.id]
        assert received.attempts <= notify.MAX_ATTEMPTS
    assert received.state == notices.FAILED
    assert received.sent_at is None
    assert ("received", "email") not in told(shop, refund.id)
    last = [a.detail for a in shop.hub.audit(refund.id) if a.action == "customer_notice_failed"][-1]
    assert last["final"] is True
    assert mailbox.messages == []


def test_without_an_address_or_e_mail_configured_nothing_is_told(tmp_path: Path) -> None:
    for world in make_world(tmp_path):  # no [email] host
        refund = request(world, "7005", 800, 800)
        assert told(world, refund.id) == []
        reasons = {a.detail["reason"] for a in world.hub.audit(refund.id) if a.action == "customer_not_notified"}
        assert "the hub's e-mail is not configured ([email] host)" in reasons
        assert {n.state for n in owed(world, refund.id)} == {notices.SKIPPED}


def test_a_skipped_notice_finishes_its_job_in_the_same_transaction(tmp_path: Path) -> None:
    for world in make_world(tmp_path):  # no [email] host: the e-mail notice is skipped
        refund = request(world, "7006", 800, 800)
        engine = world.hub.hub.engine
        with write(engine) as conn:
            [notice_id] = notices.schedule(conn, refund.id, "reminder", ("email",))
            job_id = conn.execute(
                sa.select(jobs.c.id).where(jobs.c.kind == JobKind.NOTICE, jobs.c.subject_id == str(notice_id))
            ).scalar_one()
        run = JobRun(job_id)
        notify.send_notice(world.hub.hub, str(notice_id), job=run)
        assert run.finished  # so the runner writes no transaction of its own for it
        with read(engine) as conn:
            assert conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job_id)).scalar_one() == "done"
        [skipped] = [n for n in owed(world, refund.id) if n.id == notice_id]
        assert skipped.state == notices.SKIPPED
