"""A returns app's two duties on a Return, as the Admin API runs them (2025-07 and later):
``returnApproveRequest`` opens a ``REQUESTED`` return (``OPEN``, fires ``returns/approve``), and
``returnProcess`` disposes of its items — here without a ``financialTransfer``: the money moved
already, by ``refundCreate`` or at the gateway. Each line's ``processableQuantity`` falls by what
was processed; once none is left the return is ``CLOSED`` (``returns/close``). Processing more
than is processable, or a return that is not open, is a user error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.shopify.sim import rest
from connectors.shopify.sim.state import SimCall, SimShop, iso, tail

if TYPE_CHECKING:
    from connectors.shopify.sim.graphql import RootField
    from connectors.shopify.sim.server import ShopifySimulator


def _error(message: str, code: str, field: list[str]) -> dict[str, Any]:
    return {"return": None, "userErrors": [{"field": field, "message": message, "code": code}]}


def approve(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    given: Mapping[str, Any] = args.get("input") or {}
    sim.calls.append(SimCall(shop.domain, "returnApproveRequest", dict(given)))
    ret = shop.find_return(given.get("id"))
    if ret is None:
        return _error("Return does not exist", "NOT_FOUND", ["id"])
    if ret.status != "REQUESTED":
        return _error(f"Return is {ret.status.lower()}, not requested", "INVALID_STATE", ["id"])
    ret.status, ret.updated_at = "OPEN", iso()
    sim.fire(shop, "returns/approve", rest.return_event(ret, "returns/approve"))
    return {"return": {"id": ret.gid, "status": ret.status}, "userErrors": []}


def process(sim: ShopifySimulator, shop: SimShop, field: RootField, args: dict[str, Any]) -> Any:
    given: Mapping[str, Any] = args.get("input") or {}
    sim.calls.append(SimCall(shop.domain, "returnProcess", dict(given)))
    ret = shop.find_return(given.get("returnId"))
    if ret is None:
        return _error("Return does not exist", "NOT_FOUND", ["input", "returnId"])
    if ret.status != "OPEN":
        return _error(f"Return is {ret.status.lower()}, not open", "INVALID_STATE", ["input", "returnId"])
    by_id = {line.id: line for line in ret.lines}
    wanted = [
        (by_id.get(tail(item.get("id"))), int(item.get("quantity") or 0)) for item in given.get("returnLineItems") or ()
    ]
    for index, (line, quantity) in enumerate(wanted):
        if line is None or quantity <= 0 or quantity > line.quantity - line.processed:
            where = ["input", "returnLineItems", str(index), "quantity"]
            return _error("Quantity is greater than the processable quantity", "INVALID", where)
    for line, quantity in wanted:
        assert line is not None
        line.processed += quantity
    ret.updated_at = iso()
    if all(line.processed >= line.quantity for line in ret.lines):
        ret.status, ret.closed_at = "CLOSED", iso()
        sim.fire(shop, "returns/close", rest.return_event(ret, "returns/close"))
    return {"return": {"id": ret.gid, "status": ret.status}, "userErrors": []}
