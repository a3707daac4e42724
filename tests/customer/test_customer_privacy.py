"""The customer's side in a redaction and a data request, on SQLite and PostgreSQL: the notices
sent to the customer and the feedback they left are in the report the merchant receives, and a
redaction takes their texts out (the record that they were told, and the rating, stay)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from hub.contracts import Notice
from hub.db.tables_customer import feedback, notices
from hub.ledger.unit import read, write
from hub.pipeline.deliveries import take_notice
from hub.pipeline.feedback import record
from tests.hub.conftest import World, make_world

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def any_world(tmp_path: Path, any_engine: Any) -> Iterator[World]:
    yield from make_world(tmp_path, engine=any_engine)


def told_and_answered(world: World, order_id: str, email: str) -> Any:
    """A refund of ``email``'s order, the notices it owed, an SMTP refusal naming the address,
    and the customer's feedback naming them too."""
    payment = world.gateway.create_payment(1000, "USD", payment_id=f"pay-{order_id}")
    world.platform.add_order(order_id, 1000, reference=payment, email=email)
    world.platform.request_refund(order_id, 300)
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    refund = next(r for r in world.hub.refunds() if r.order_id == order_id)
    hub = world.hub.hub
    with write(hub.engine) as conn:
        made = conn.execute(select(notices.c.id).where(notices.c.refund_id == refund.id)).scalars().all()
        assert made, "the refund owed the customer notices"
        conn.execute(
            update(notices)
            .where(notices.c.id == made[0])
            .values(subject=f"Refund of order {order_id}", body="We refunded 3.00 USD.", last_error=f"550 <{email}>")
        )
    record(hub, refund.id, 4, f"Fast, thanks. Write to me at {email}", "damaged")
    return refund


def rows_of(world: World, refund_id: str) -> tuple[list[Any], Any]:
    with read(world.hub.hub.engine) as conn:
        told = conn.execute(select(notices).where(notices.c.refund_id == refund_id)).all()
        said = conn.execute(select(feedback).where(feedback.c.refund_id == refund_id)).one()
    return told, said


def test_a_data_request_reports_the_notices_and_the_feedback(any_world: World) -> None:
    world = any_world
    mine = told_and_answered(world, "9101", "ana@example.com")
    told_and_answered(world, "9102", "bob@example.com")
    notice = Notice(
        "data_request", world.platform.store_id, "customers/data_request", hints={"email": "ana@example.com"}
    )
    assert take_notice(world.hub.hub, "sandbox", notice, None) is None
    [export] = world.hub.client.get("/api/data-exports", headers=ADMIN).json["data_exports"]
    [held] = export["content"]["refunds"]
    assert held["refund_id"] == mine.id
    assert held["feedback"]["comment"] == "Fast, thanks. Write to me at ana@example.com"
    assert (held["feedback"]["rating"], held["feedback"]["reason"]) == (4, "damaged")
    steps = {(n["step"], n["channel"]) for n in held["notices"]}
    assert steps == {(n.step, n.channel) for n in rows_of(world, mine.id)[0]}
    assert any(n["subject"] == "Refund of order 9101" and n["body"] == "We refunded 3.00 USD." for n in held["notices"])
    assert "bob@example.com" not in str(export["content"])
    assert held["credit"] is None


def test_a_redaction_takes_the_customers_words_out_of_notices_and_feedback(any_world: World) -> None:
    world = any_world
    mine = told_and_answered(world, "9103", "ana@example.com")
    other = told_and_answered(world, "9104", "bob@example.com")
    mine_before = rows_of(world, mine.id)[0]
    notice = Notice("redact", world.platform.store_id, "customers/redact", hints={"email": "ana@example.com"})
    assert take_notice(world.hub.hub, "sandbox", notice, None) is None

    told, said = rows_of(world, mine.id)
    assert all((n.subject, n.body, n.last_error) == (None, None, None) for n in told)
    assert [(n.step, n.channel, n.state) for n in told] == [(n.step, n.channel, n.state) for n in mine_before]
    assert (said.comment, said.rating, said.reason) == ("", 4, "damaged")
    kept_told, kept_said = rows_of(world, other.id)
    assert any(n.last_error == "550 <bob@example.com>" for n in kept_told)
    assert "bob@example.com" in kept_said.comment
    [entry] = [a for a in world.hub.audit() if a.action == "redacted"]
    with_text = [n for n in mine_before if n.subject or n.body or n.last_error]
    assert len(with_text) > 1  # the e-mails and notes sent, and the refusal
    assert (entry.detail["notices"], entry.detail["feedback"]) == (len(with_text), 1)


def test_a_store_redaction_empties_every_notice_and_comment_of_the_store(any_world: World) -> None:
    world = any_world
    refunds = [told_and_answered(world, "9105", "ana@example.com"), told_and_answered(world, "9106", "bob@example.com")]
    notice = Notice("redact", world.platform.store_id, "shop/redact", hints={"whole_store": True})
    take_notice(world.hub.hub, "sandbox", notice, None)
    for refund in refunds:
        told, said = rows_of(world, refund.id)
        assert {(n.subject, n.body, n.last_error) for n in told} == {(None, None, None)}
        assert said.comment == ""
