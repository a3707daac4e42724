"""The words of a notice: a store's own templates per locale win over the built-in ones, a
template naming something the hub does not give fails loudly, the store's arrival table wins
key by key, and the platform's text carries no links."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import UndefinedError

from hub.contracts import StoreContext
from hub.pipeline.notice_text import Moment, arrival, render, with_bonus
from hub.runtime.config import load_config

VALUES: dict[str, Any] = {
    "order": "1001",
    "amount": "25.00 EUR",
    "method": "your card",
    "arrival": "5–10 business days",
    "store_name": "Laden",
    "timeline": [Moment(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "Request received")],
    "status_url": "https://hub.example/customer/status/abc",
}


def _hub(templates: Path | None = None, **customer: Any) -> Any:
    data: dict[str, Any] = {"email": {"templates_path": str(templates)} if templates else {}, "customer": customer}
    return SimpleNamespace(config=load_config(data=data, env={}))


def test_a_stores_own_template_in_its_locale_wins_and_the_rest_fall_back(tmp_path: Path) -> None:
    own = tmp_path / "laden.example" / "de"
    own.mkdir(parents=True)
    (own / "approved.txt").write_text(
        "Subject: Erstattung für {{ order }} genehmigt\n{{ amount }} gehen an {{ method }}.\n"
    )
    (own / "approved.html").write_text("<p>{{ amount }}</p>")
    store = StoreContext(id="laden.example", connector="sandbox", settings={"locale": "de"})
    hub = _hub(tmp_path)

    mine = render(hub, store, "approved", "email", VALUES)
    assert mine.subject == "Erstattung für 1001 genehmigt"
    assert mine.text == "25.00 EUR gehen an your card.\n"
    assert mine.html == "<p>25.00 EUR</p>"
    built_in = render(hub, store, "received", "email", {**VALUES, "requested": "25.00 EUR"})
    assert built_in.subject == "We received your refund request for order 1001"
    assert "Request received" in built_in.text


def test_the_platform_text_has_no_links_and_no_timeline() -> None:
    store = StoreContext(id="s", connector="sandbox")
    note = render(_hub(), store, "approved", "platform", VALUES)
    assert note.html is None
    assert "/customer/" not in note.text
    assert "Request received" not in note.text
    assert note.text.startswith("Your refund of 25.00 EUR for order 1001 is approved.")


def test_a_template_naming_what_the_hub_does_not_give_fails(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "approved.txt").write_text("Subject: x\n{{ no_such_thing }}\n")
    with pytest.raises(UndefinedError):
        render(_hub(tmp_path), StoreContext(id="s", connector="sandbox"), "approved", "email", VALUES)


def test_arrival_times_and_the_store_credit_bonus() -> None:
    hub = _hub(arrival={"stripe": "a week"})
    store = StoreContext(id="s", connector="sandbox", settings={"arrival": {"paypal": "a day"}})
    assert arrival(hub, None, "stripe") == "a week"
    assert arrival(hub, store, "paypal") == "a day"
    assert arrival(hub, store, "unheard-of") == arrival(hub, None, "platform")
    bonus_store = StoreContext(id="s", connector="sandbox", settings={"store_credit_bonus_percent": 10})
    assert with_bonus(bonus_store, 1999) == (2198, 199)
    assert with_bonus(store, 1999) == (1999, 0)
