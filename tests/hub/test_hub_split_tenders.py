"""``refund-hub parts``: a person sees each part of a split refund and settles a partly failed one
(accept what moved, or retry the failed part with a new key)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from hub.cli.main import main
from hub.db.tables import refunds
from hub.ledger import payments, states, tenders
from hub.ledger import refunds as ledger
from hub.models import Payment, TenderKind
from tests.hub.conftest import World
from tests.hub.test_hub_policy_cli import _config_file
from tests.ledger.conftest import request

GIFT = Payment(platform_label="gift_card", reference="gc-9", captured=3000, currency="USD", tender=TenderKind.GIFT_CARD)
CARD = Payment(platform_label="stripe", reference="pi_9", captured=7000, currency="USD")


def partly_failed(engine: sa.Engine) -> str:
    """A refund split across a gift card (paid back) and a card (declined)."""
    with engine.begin() as conn:
        asked = request("rq-split", 5000).model_copy(update={"payments": (GIFT, CARD)})
        refund_id, _ = ledger.open_refund(conn, asked, kind="requested", state=states.REQUESTED)
        gift = payments.upsert(conn, "s1", "platform", GIFT)
        card = payments.upsert(conn, "s1", "gateway:stripe", CARD)
        tenders.save_plan(conn, refund_id, [(gift, "platform"), (card, "gateway:stripe")], tenders.CREDIT_FIRST)
        payments.reserve(conn, refund_id, gift, 5000, expect=states.REQUESTED)
        first, second = tenders.parts_of(conn, refund_id)
        conn.execute(sa.update(refunds).where(refunds.c.id == first.id).values(state=states.WRITTEN_BACK))
        conn.execute(sa.update(refunds).where(refunds.c.id == second.id).values(state=states.FAILED))
        tenders.roll_up(conn, refund_id)
    return refund_id


def test_a_person_sees_the_parts_and_accepts_what_moved(world: World, tmp_path: Path) -> None:
    refund_id = partly_failed(world.hub.hub.engine)
    config = _config_file(world, tmp_path)
    runner = CliRunner()

    shown = runner.invoke(main, ["--config", config, "parts", refund_id])
    assert shown.exit_code == 0, shown.output
    seen = json.loads(shown.output)
    assert (seen["state"], seen["partly_failed"], seen["moved"]) == ("executing", True, 3000)
    assert [(p["route"], p["amount"], p["state"]) for p in seen["parts"]] == [
        ("platform", 3000, "written_back"),
        ("gateway:stripe", 2000, "failed"),
    ]

    accepted = runner.invoke(main, ["--config", config, "parts", refund_id, "--accept"])
    assert accepted.exit_code == 0, accepted.output
    assert f"refund {refund_id} is written_back" in accepted.output
    again = runner.invoke(main, ["--config", config, "parts", refund_id, "--retry"])
    assert again.exit_code != 0
    assert "no failed parts to retry" in again.output
