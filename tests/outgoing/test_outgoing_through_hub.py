"""A refund through the whole hub (sandbox platform and gateway) is heard by a subscribed
endpoint: requested, decided, succeeded, written back — each once, signed, as it is committed."""

from __future__ import annotations

import time
from typing import Any

from hub.outgoing import endpoints
from hub.outgoing.signing import verify
from tests.hub.conftest import STORE, World
from tests.outgoing.conftest import Receiver


def test_a_refund_through_the_hub_reaches_the_merchants_endpoint(world: World, receiver: Receiver) -> None:
    created = endpoints.create(world.hub.hub, STORE, receiver.url, ["*"])
    world.order("2001", 5000)
    world.platform.request_refund("2001", 2500, request_id="rq-e2e")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [refund] = world.hub.refunds()
    events = [(g.event["type"], g.event["data"]["refund"]["id"]) for g in receiver.got]
    assert events == [
        ("refund.requested", refund.id),
        ("refund.decided", refund.id),
        ("refund.succeeded", refund.id),
        ("refund.written_back", refund.id),
    ]
    assert len({g.id for g in receiver.got}) == 4
    now = int(time.time())
    assert all(verify(created.secret, g.headers, g.body, now=now) for g in receiver.got)
    decided: dict[str, Any] = receiver.got[1].event["data"]
    assert decided["audit"]["detail"]["state"] == "approved"
    assert receiver.got[-1].event["data"]["refund"]["state"] == "written_back"
