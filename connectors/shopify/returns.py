"""The Return behind a refund, processed once the money moved: since Admin API 2025-07 a returns
app must process the returns it refunds (``returnProcess``), or the Return stays open in the
merchant's admin however much was refunded. The hub refunds with ``refundCreate`` (which takes an
idempotency key; ``returnProcess`` takes none) and then processes the returned lines without a
``financialTransfer``: nothing moves twice. A ``REQUESTED`` return is approved first
(``returnApproveRequest``), as the merchant would before processing it.

Run again (a retried write-back), it re-reads the return and processes only what is still
processable, so each line is processed once. Only the lines the refund paid for are processed
(``WriteBack.lines``): a line the policy excluded stays open for a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.shopify.client import AdminClient
from connectors.shopify.transformers import gid_tail
from hub.models import Line

RETURN_GID = "gid://shopify/Return/"
RETURN_LINES = """
query HubReturnLines($id: ID!) {
  return(id: $id) {
    id status
    returnLineItems(first: 250) { nodes {
      id processableQuantity
      ... on ReturnLineItem { fulfillmentLineItem { lineItem { id } } }
    } }
  }
}
"""
RETURN_APPROVE = """
mutation HubReturnApprove($input: ReturnApproveRequestInput!) {
  returnApproveRequest(input: $input) { return { id status } userErrors { field message code } }
}
"""
RETURN_PROCESS = """
mutation HubReturnProcess($input: ReturnProcessInput!) {
  returnProcess(input: $input) { return { id status } userErrors { field message code } }
}
"""


def process_return(client: AdminClient, return_id: str, lines: tuple[Line, ...]) -> dict[str, Any]:
    """Approve (if requested) and process the refunded lines of ``return_id``; what was done."""
    found = client.read(RETURN_LINES, {"id": return_id}).get("return")
    if not found:
        return {"return_not_processed": f"no return {return_id}"}
    status = str(found.get("status"))
    if status == "REQUESTED":
        approved = _payload(client.read(RETURN_APPROVE, {"input": {"id": return_id}}), "returnApproveRequest")
        if approved.get("userErrors"):
            return {"return_not_processed": _words(approved)}
        found = client.read(RETURN_LINES, {"id": return_id}).get("return") or {}
        status = str(found.get("status"))
    if status != "OPEN":
        return {"return_status": status}
    wanted = to_process(found, lines)
    if not wanted:
        return {"return_status": status, "return_processed": []}
    done = _payload(
        client.read(RETURN_PROCESS, {"input": {"returnId": return_id, "returnLineItems": wanted}}), "returnProcess"
    )
    if done.get("userErrors"):
        return {"return_not_processed": _words(done)}
    return {"return_status": str((done.get("return") or {}).get("status")), "return_processed": wanted}


def to_process(found: Mapping[str, Any], lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    """``{id, quantity}`` per return line: the refunded quantity of its order line, within what
    is still processable (a line returned on two return lines is shared out in order)."""
    refunded = {gid_tail(line.line_id): line.quantity for line in lines}
    wanted = []
    for node in (found.get("returnLineItems") or {}).get("nodes") or ():
        item = gid_tail(((node.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id"))
        quantity = min(int(node.get("processableQuantity") or 0), refunded.get(item, 0))
        if quantity > 0:
            wanted.append({"id": str(node["id"]), "quantity": quantity})
            refunded[item] -= quantity
    return wanted


def _payload(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return data.get(name) or {}


def _words(payload: Mapping[str, Any]) -> str:
    return "; ".join(str(e.get("message")) for e in payload.get("userErrors") or ())[:500]
