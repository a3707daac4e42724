"""The web layer's contract: clear JSON errors, nothing authentic lost, admin API, operations."""

from __future__ import annotations

import io
import json

import pytest

from hub.ledger import states
from hub.web import webhooks
from tests.hub.conftest import World

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_bad_signature_is_401_and_stores_nothing(world: World) -> None:
    raw, headers = world.platform.request_refund("x", 100, send=False)
    response = world.post(raw + b" ", headers)
    assert response.status_code == 401
    assert response.json["error"] == "signature_invalid"
    assert world.hub.deliveries() == []


def test_unknown_connector_is_404(world: World) -> None:
    response = world.hub.client.post("/webhooks/nope", data=b"{}", content_type="application/json")
    assert (response.status_code, response.json["error"]) == (404, "unknown_connector")


def test_body_over_the_limit_is_413(world: World) -> None:
    big = b"{" + b" " * (world.hub.config.hub.max_body_bytes + 10) + b"}"
    response = world.hub.client.post("/webhooks/sandbox", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "body_too_large"


def test_wrong_content_type_is_415(world: World) -> None:
    response = world.hub.client.post("/webhooks/sandbox", data=b"a=b", content_type="application/x-www-form-urlencoded")
    assert (response.status_code, response.json["error"]) == (415, "unsupported_media_type")


def test_missing_headers_are_400(world: World) -> None:
    raw, headers = world.platform.request_refund("x", 100, send=False)
    del headers["X-Sandbox-Event-Id"]
    response = world.post(raw, headers)
    assert (response.status_code, response.json["error"]) == (400, "malformed_body")


def test_unreadable_authentic_delivery_becomes_a_replayable_dead_letter(world: World) -> None:
    raw, headers = world.platform.webhook("refund.requested", {"no": "topic"}, send=False)
    assert world.post(raw, headers).status_code == 200
    world.hub.settle()
    [delivery] = world.hub.deliveries()
    assert delivery.status == "dead"
    assert "topic" in delivery.error
    listed = world.hub.client.get("/api/deliveries?status=dead", headers=ADMIN).json["deliveries"]
    assert [d["id"] for d in listed] == [delivery.id]
    replayed = world.hub.client.post(f"/api/deliveries/{delivery.id}/replay", headers=ADMIN)
    assert replayed.status_code == 200
    assert world.hub.deliveries()[0].status == "received"


def test_refund_in_review_is_approved_through_the_admin_api(world: World) -> None:
    world.order("4001", 1000)
    world.platform.request_refund("4001", 2000, request_id="rq-big")  # more than captured: review
    world.hub.settle(senders=[world.platform.sender])
    [refund] = world.hub.refunds()
    assert refund.state == states.REVIEW
    assert world.hub.client.post(f"/api/refunds/{refund.id}/approve", json={}, headers={}).status_code == 401
    too_much = world.hub.client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 2000}, headers=ADMIN)
    assert too_much.status_code == 409
    assert "refundable balance" in too_much.json["message"]
    ok = world.hub.client.post(f"/api/refunds/{refund.id}/approve", json={"amount": 1000, "by": "ana"}, headers=ADMIN)
    assert ok.json["state"] == states.APPROVED
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    shown = world.hub.client.get(f"/api/refunds/{refund.id}", headers=ADMIN).json
    assert shown["state"] == states.WRITTEN_BACK
    assert shown["amounts"] == {"requested": 2000, "approved": 1000, "refunded": 1000}
    assert shown["money_moved"] is True
    assert any(entry["actor"] == "admin:ana" for entry in shown["audit"])
    assert world.hub.client.get("/api/refunds?state=written_back", headers=ADMIN).json["refunds"][0]["id"] == refund.id


def test_health_metrics_and_openapi(world: World) -> None:
    assert world.hub.client.get("/healthz").json == {"status": "ok"}
    world.order("4002", 500)
    world.platform.request_refund("4002", 500)
    world.hub.settle(senders=[world.platform.sender])
    text = world.hub.client.get("/metrics", headers=ADMIN).get_data(as_text=True)  # private by default
    for name in (
        "refund_hub_deliveries_total",
        "refund_hub_decisions_total",
        "refund_hub_gateway_outcomes_total",
        "refund_hub_gateway_latency_seconds",
        "refund_hub_queue_depth",
        "refund_hub_oldest_unresolved_refund_seconds",
    ):
        assert name in text
    document = world.hub.client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/api/refunds/{refund_id}/approve" in document["paths"]
    json.dumps(document)


def test_the_api_needs_credentials_even_without_an_operator_token(world: World) -> None:
    world.hub.hub.config.hub.admin_token = None  # no bootstrap token: people's own tokens still work
    assert world.hub.client.get("/api/refunds").status_code == 401
    assert world.hub.client.get("/api/refunds", headers=ADMIN).status_code == 401


def test_a_body_without_content_length_is_read_up_to_the_limit(world: World) -> None:
    """Chunked uploads carry no Content-Length: read as a stream, refused one byte past the limit."""
    world.order("1001", 5000)
    raw, headers = world.platform.request_refund("1001", 1000, send=False)
    answer = world.hub.client.post("/webhooks/sandbox", input_stream=io.BytesIO(raw), headers=headers)
    assert answer.status_code == 200
    assert answer.json["result"] == "accepted"
    big = io.BytesIO(b"{" + b" " * world.hub.config.hub.max_body_bytes + b"}")
    answer = world.hub.client.post("/webhooks/sandbox", input_stream=big, headers=headers)
    assert (answer.status_code, answer.json["error"]) == (413, "body_too_large")


def test_a_path_under_webhooks_that_names_no_endpoint_is_404(world: World) -> None:
    for path in ("/webhooks/sandbox/extra", "/webhooks/gateway/a/b", "/webhooks/gateway/none", "/webhooks/"):
        answer = world.hub.client.post(path, data=b"{}", content_type="application/json")
        assert (answer.status_code, answer.json["error"]) == (404, "unknown_connector"), path


def test_a_verifier_that_crashes_is_a_500_in_json_and_stores_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(inbound: object) -> None:
        raise RuntimeError("a bug in a connector plugin")

    monkeypatch.setattr(world.hub.hub.connectors["sandbox"], "verify", broken)
    raw, headers = world.platform.request_refund("x", 100, send=False)
    answer = world.post(raw, headers)
    assert (answer.status_code, answer.json["error"]) == (500, "internal_server_error")
    assert world.hub.deliveries() == []


def test_the_query_string_is_decoded_as_werkzeug_would() -> None:
    assert webhooks._query("store=s%C3%A9&store=other&empty=") == {"store": "sé", "empty": ""}
    raw_utf8 = "store=sé".encode().decode("latin-1")  # what a WSGI server hands over for raw UTF-8
    assert webhooks._query(raw_utf8) == {"store": "sé"}
