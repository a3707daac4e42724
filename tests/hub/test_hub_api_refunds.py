"""The JSON API's refunds: what a refund says, filters and cursor paging, strict query values, and
answers that match the published OpenAPI schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hub.ledger import states
from hub.web.openapi import DOCUMENT
from tests.hub.conftest import World

ADMIN = {"Authorization": "Bearer test-admin-token"}


def _get(world: World, url: str) -> Any:
    return world.hub.client.get(url, headers=ADMIN)


def _conforms(answer: Any, component: str) -> None:
    schema = {**DOCUMENT, "$ref": f"#/components/schemas/{component}"}
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(answer)]
    assert errors == []


def _refunded(world: World, order_id: str, amount: int, *, reason: str = "damaged") -> None:
    world.order(order_id, amount)
    world.platform.request_refund(order_id, amount, request_id=f"rq-{order_id}", reason=reason)


def test_a_refund_says_what_was_asked_decided_and_moved(world: World) -> None:
    _refunded(world, "5001", 2500)
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    [refund] = world.hub.refunds()
    shown = _get(world, f"/api/refunds/{refund.id}").json
    _conforms(shown, "RefundOut")
    assert shown["state"] == states.WRITTEN_BACK
    assert shown["amounts"] == {"requested": 2500, "approved": 2500, "refunded": 2500}
    assert shown["money_moved"] is True  # the gateway made it: money moved, whoever moved it
    assert shown["reason"] == "damaged"
    assert shown["customer"] == {"id": "c-buyer@example.com", "email": "buyer@example.com"}
    assert [(line["line_id"], line["quantity"], line["unit_price"]) for line in shown["lines"]] == [("5001-1", 1, 2500)]
    assert shown["decision"]["action"] == "approve"  # one object, not {"decision": {"decision": ...}}
    assert "decision" not in shown["decision"]
    assert shown["decision"]["explanation"]
    for stamp in (shown["created_at"], shown["updated_at"], shown["executed_at"], shown["audit"][0]["at"]):
        assert datetime.fromisoformat(stamp).utcoffset() is not None  # every time carries its zone


def test_a_refund_waiting_for_a_person_has_moved_nothing(world: World) -> None:
    world.order("5002", 1000)
    world.platform.request_refund("5002", 2000, request_id="rq-big")  # more than captured: review
    world.hub.settle(senders=[world.platform.sender])
    [refund] = world.hub.refunds()
    shown = _get(world, f"/api/refunds/{refund.id}").json
    assert shown["state"] == states.REVIEW
    assert shown["amounts"]["refunded"] == 0
    assert shown["money_moved"] is False
    denied = world.hub.client.post(f"/api/refunds/{refund.id}/deny", json={"note": "worn"}, headers=ADMIN)
    _conforms(denied.json, "ReviewAnswer")
    shown = _get(world, f"/api/refunds/{refund.id}").json
    assert shown["review"] == {"verdict": "deny", "reason": "worn", "by": "admin:admin"}
    assert shown["decision"]["action"] == "review"  # what the policy said stays beside the person's verdict


def test_cursor_paging_walks_every_refund_once_newest_first(world: World) -> None:
    for number in range(7):
        _refunded(world, f"60{number}", 100 + number)
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])
    seen: list[str] = []
    url = "/api/refunds?limit=3"
    while True:
        page = _get(world, url).json
        _conforms(page, "RefundPage")
        seen += [r["id"] for r in page["refunds"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/refunds?limit=3&cursor={page['next_cursor']}"
    everything = sorted(world.hub.refunds(), key=lambda r: (r.created_at, r.id), reverse=True)
    assert seen == [r.id for r in everything]


def test_filters_narrow_the_list(world: World) -> None:
    _refunded(world, "7001", 900, reason="damaged")
    _refunded(world, "7002", 4000, reason="not_as_described")
    _refunded(world, "7003", 1500, reason="damaged")
    world.hub.settle(senders=[world.platform.sender, world.gateway.sender])

    def orders(query: str) -> list[str]:
        answer = _get(world, f"/api/refunds?{query}")
        assert answer.status_code == 200, answer.json
        return sorted(r["order_id"] for r in answer.json["refunds"])

    assert orders("reason=damaged") == ["7001", "7003"]
    assert orders("amount_min=1000&amount_max=2000&currency=USD") == ["7003"]
    assert orders("connector=sandbox&state=written_back") == ["7001", "7002", "7003"]
    assert orders("connector=shopify") == []
    assert orders("route=gateway:sandbox") == ["7001", "7002", "7003"]
    assert orders("created_before=2000-01-01") == []
    assert orders("created_from=2000-01-01T00:00:00%2B01:00") == ["7001", "7002", "7003"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=abc", "invalid_limit"),
        ("limit=0", "invalid_limit"),
        ("state=bogus", "invalid_state"),
        ("cursor=not-a-cursor", "invalid_cursor"),
        ("cursor=" + "A" * 8, "invalid_cursor"),
        ("created_from=yesterday", "invalid_created_from"),
        ("amount_min=-5", "invalid_amount_min"),
        ("amount_max=1e3", "invalid_amount_max"),
        ("reason=" + "x" * 40, "invalid_reason"),
    ],
)
def test_a_query_value_it_cannot_use_is_a_400_naming_it(world: World, query: str, code: str) -> None:
    answer = _get(world, f"/api/refunds?{query}")
    assert answer.status_code == 400
    assert answer.json["error"] == code
    assert answer.json["message"]


def test_deliveries_status_is_checked(world: World) -> None:
    answer = _get(world, "/api/deliveries?status=everything")
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_status")
    _conforms(_get(world, "/api/deliveries?status=done").json, "DeliveryList")


def test_the_document_describes_each_answer_and_only_its_own_errors() -> None:
    paths = DOCUMENT["paths"]
    listing = paths["/api/refunds"]["get"]["responses"]
    assert listing["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RefundPage"}
    assert "404" not in listing  # a list has no 404
    assert "409" in paths["/api/refunds/{refund_id}/approve"]["post"]["responses"]
    assert "409" not in paths["/api/refunds/{refund_id}"]["get"]["responses"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation["responses"]["200"]["description"], (path, method)
            for status, answer in operation["responses"].items():
                if status != "200":
                    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    Draft202012Validator.check_schema({**DOCUMENT, "$ref": "#/components/schemas/RefundOut"})
