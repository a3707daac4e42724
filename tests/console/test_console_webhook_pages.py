"""Outgoing webhooks in the console: endpoints of one's stores, each delivery with its attempts,
sending again (one or all of the last hours), tenancy and roles; screenshots in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.ledger import webhook_deliveries as owed_to
from hub.ledger.unit import read
from hub.outgoing import endpoints
from tests.console.conftest import OTHER_STORE, Shop, Shots, client_of, csrf_of, sign_in
from tests.hub.conftest import STORE
from tests.outgoing.conftest import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The merchant's system, on 127.0.0.1."""
    found = Receiver().up()
    yield found
    found.down()


def _endpoint_with_history(shop: Shop, receiver: Receiver, answer: int = 500) -> str:
    """An endpoint that heard one refund's events; ``answer`` 500: the merchant's system is failing
    and every attempt is recorded."""
    shop.hub.config.webhooks.allow_private_networks = True
    created = endpoints.create(shop.hub, STORE, receiver.url, ["*"], description="ERP")
    receiver.status = answer
    shop.request("8101", 4000, 1500)
    shop.world.hub.settle(senders=[shop.world.platform.sender, shop.world.gateway.sender])
    return created.endpoint.id


def _replay(client: Any, endpoint_id: str, page: Any, **form: Any) -> Any:
    return client.post(f"/webhook-endpoints/{endpoint_id}/replay", data={**form, "csrf_token": csrf_of(page.text)})


def test_endpoints_and_their_attempts(shop: Shop, receiver: Receiver) -> None:
    endpoint_id = _endpoint_with_history(shop, receiver)
    client = client_of(shop, shop.person("ana@example.com"))
    listing = client.get("/webhook-endpoints")
    assert listing.status_code == 200
    assert receiver.url in listing.text
    assert "ERP" in listing.text
    page = client.get(f"/webhook-endpoints/{endpoint_id}")
    assert page.status_code == 200
    assert "refund.requested" in page.text
    assert "HTTP 500" in page.text  # each attempt with what the endpoint answered


def test_sending_again(shop: Shop, receiver: Receiver) -> None:
    endpoint_id = _endpoint_with_history(shop, receiver, answer=200)
    with read(shop.hub.engine) as conn:
        sent = owed_to.deliveries(conn, endpoint_id)
    delivered = [d for d in sent if d["state"] == owed_to.SUCCEEDED]
    client = client_of(shop, shop.person("ana@example.com"))
    page = client.get(f"/webhook-endpoints/{endpoint_id}")
    answer = _replay(client, endpoint_id, page, delivery=delivered[0]["id"])
    assert answer.status_code == 302
    with read(shop.hub.engine) as conn:
        assert owed_to.owed(conn, endpoint_id) == 1
    refused = _replay(client, endpoint_id, page, hours="0")
    assert refused.status_code == 302
    with read(shop.hub.engine) as conn:
        assert owed_to.owed(conn, endpoint_id) == 1  # nothing more queued on a bad request


def test_another_stores_endpoint_is_not_there(shop: Shop, receiver: Receiver) -> None:
    shop.hub.config.webhooks.allow_private_networks = True
    theirs = endpoints.create(shop.hub, OTHER_STORE, receiver.url, ["*"]).endpoint.id
    client = client_of(shop, shop.person("ana@example.com"))
    assert receiver.url not in client.get("/webhook-endpoints").text
    assert client.get(f"/webhook-endpoints/{theirs}").status_code == 404
    page = client.get("/webhook-endpoints")
    assert _replay(client, theirs, page, hours="1").status_code == 404


def test_support_reads_but_does_not_send_again(shop: Shop, receiver: Receiver) -> None:
    endpoint_id = _endpoint_with_history(shop, receiver)
    client = client_of(shop, shop.person("sue@example.com", role="support"))
    page = client.get(f"/webhook-endpoints/{endpoint_id}")
    assert page.status_code == 200
    assert "Send again" not in page.text
    answer = _replay(client, endpoint_id, page, hours="1")
    assert answer.status_code == 403


def test_webhook_pages_in_chromium(shop: Shop, receiver: Receiver, browse: Any, shots: Shots) -> None:
    endpoint_id = _endpoint_with_history(shop, receiver)
    shop.person("ana@example.com")
    for width, suffix in ((1280, ""), (390, "-phone")):
        page = browse(width=width)
        sign_in(page, shop.url, "ana@example.com")
        page.goto(f"{shop.url}/webhook-endpoints")
        shots(page, f"webhooks{suffix}")
        page.get_by_role("link", name=receiver.url).click()
        page.wait_for_selector("text=HTTP 500")
        shots(page, f"webhook{suffix}")
        page.close()
    assert endpoint_id
