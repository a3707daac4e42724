"""The outgoing webhooks API: an owner subscribes an endpoint (the secret shown once), sees its
deliveries with their attempts, replays, rotates, switches it; bad input is a 400 naming the
problem; other stores' endpoints are not found."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from hub.outgoing.deliver import deliver_due
from hub.outgoing.signing import verify
from tests.hub.conftest import STORE, World
from tests.outgoing.conftest import FakeClock, Receiver

ADMIN = {"Authorization": "Bearer test-admin-token"}


def subscribe(world: World, receiver: Receiver, **extra: object) -> dict[str, object]:
    answer = world.hub.client.post(
        "/api/webhooks/endpoints",
        json={"store_id": STORE, "url": receiver.url, "events": ["*"], **extra},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def test_subscribe_deliver_list_attempts_and_replay(world: World, receiver: Receiver, clock: FakeClock) -> None:
    created = subscribe(world, receiver, description="ERP")
    endpoint = created["endpoint"]
    assert isinstance(endpoint, dict)
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert "secrets" not in endpoint
    world.order("3001", 4000)
    world.platform.request_refund("3001", 1000, request_id="rq-api")
    receiver.status = 500
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])  # the job tried once, and failed
    listed = world.hub.client.get(f"/api/webhooks/endpoints/{endpoint['id']}/deliveries", headers=ADMIN).json
    [first_failed, *rest] = list(reversed(listed["deliveries"]))
    assert [a["status"] for a in first_failed["attempt_log"]] == [500]
    assert all(d["attempts"] == 0 and d["state"] == "pending" for d in rest)
    receiver.status = 200
    clock.advance(minutes=1)
    assert deliver_due(world.hub.hub, clock)["sent"] == len(rest) + 1
    shown = world.hub.client.get(f"/api/webhooks/endpoints/{endpoint['id']}", headers=ADMIN).json
    assert shown["owed"] == 0
    assert shown["endpoint"]["failures"] == 0
    replay = world.hub.client.post(
        f"/api/webhooks/endpoints/{endpoint['id']}/deliveries/{first_failed['id']}/replay", headers=ADMIN
    )
    assert replay.json == {"replayed": 1}
    assert deliver_due(world.hub.hub, clock) == Counter(sent=1)
    assert receiver.got[-1].id == first_failed["message_id"]
    assert verify(secret, receiver.got[-1].headers, receiver.got[-1].body, now=int(clock.now.timestamp()))


def test_bad_input_is_a_400_naming_the_problem(world: World, receiver: Receiver) -> None:
    cases = [
        ({"store_id": STORE, "url": "ftp://x", "events": ["*"]}, "url: an absolute http(s) URL is required"),
        ({"store_id": STORE, "url": "https://u:p@example.com/h", "events": ["*"]}, "credentials in the URL"),
        (
            {"store_id": STORE, "url": receiver.url, "events": ["refund.exploded"]},
            "events: unknown ['refund.exploded']",
        ),
    ]
    for body, message in cases:
        answer = world.hub.client.post("/api/webhooks/endpoints", json=body, headers=ADMIN)
        assert answer.status_code == 400
        assert answer.json["error"] == "invalid_endpoint"
        assert message in answer.json["message"]
    strict = world.hub.client.post(
        "/api/webhooks/endpoints", json={"store_id": STORE, "url": receiver.url, "events": "*"}, headers=ADMIN
    )
    assert strict.status_code == 400
    assert "events" in strict.json["message"]
    assert world.hub.client.post("/api/webhooks/endpoints", data=b"{", headers=ADMIN).status_code == 400


def test_rotate_disable_enable_and_unknown_endpoints(world: World, receiver: Receiver, clock: FakeClock) -> None:
    created = subscribe(world, receiver)
    endpoint_id = created["endpoint"]["id"]  # type: ignore[index]
    rotated = world.hub.client.post(
        f"/api/webhooks/endpoints/{endpoint_id}/rotate", json={"overlap_hours": 1}, headers=ADMIN
    ).json
    assert rotated["secret"] != created["secret"]
    assert rotated["endpoint"]["rotating_until"] is not None
    off = world.hub.client.post(f"/api/webhooks/endpoints/{endpoint_id}/disable", json={}, headers=ADMIN).json
    assert off["endpoint"]["enabled"] is False
    on = world.hub.client.post(f"/api/webhooks/endpoints/{endpoint_id}/enable", headers=ADMIN).json
    assert on["endpoint"]["enabled"] is True
    changed = world.hub.client.patch(
        f"/api/webhooks/endpoints/{endpoint_id}",
        json={"events": ["refund.succeeded"], "failure_limit": 4},
        headers=ADMIN,
    ).json
    assert (changed["endpoint"]["events"], changed["endpoint"]["failure_limit"]) == (["refund.succeeded"], 4)
    missing = world.hub.client.get("/api/webhooks/endpoints/ep_nope/deliveries", headers=ADMIN)
    assert missing.status_code == 404
    assert world.hub.client.get("/api/webhooks/endpoints").status_code == 401
    clock.advance(hours=2)
    assert (
        world.hub.client.post(
            f"/api/webhooks/endpoints/{endpoint_id}/replay?since=not-a-time", headers=ADMIN
        ).status_code
        == 400
    )
    since = (clock.now - timedelta(days=1)).isoformat()
    assert world.hub.client.post(
        f"/api/webhooks/endpoints/{endpoint_id}/replay", query_string={"since": since}, headers=ADMIN
    ).json == {"replayed": 0}


def test_a_hub_for_several_merchants_refuses_endpoints_inside_its_network(world: World) -> None:
    world.hub.hub.config.webhooks.allow_private_networks = False
    for url, message in [
        ("http://erp.example.com/hooks", "url: https is required"),
        ("https://127.0.0.1:8443/hooks", "127.0.0.1 is a local or private address"),
        ("https://10.1.2.3/hooks", "10.1.2.3 is a local or private address"),
        ("https://[::1]/hooks", "::1 is a local or private address"),
        ("https://localhost/hooks", "localhost is a local or private address"),
    ]:
        body = {"store_id": STORE, "url": url, "events": ["*"]}
        answer = world.hub.client.post("/api/webhooks/endpoints", json=body, headers=ADMIN)
        assert answer.status_code == 400, url
        assert message in answer.json["message"]
