"""Money on the platform route: an online credit memo, so Magento refunds through its payment module.

Magento has no idempotency key, and no lookup of it can prove that no money moved: for ``POST
/V1/invoice/{id}/refund`` the payment module refunds at the gateway inside the transaction that then
saves the credit memo (``Magento\\Sales\\Model\\RefundInvoice::execute``); when that save fails the
gateway refund stands without a credit memo, and Magento answers 400 "Could not save a Creditmemo",
the answer a gateway decline gets too. So:

- every credit memo the hub creates carries ``refund-hub:<id>`` in its comment, and every credit
  memo of the order is read for it before one is created (``find_creditmemo``, shared with
  ``record``);
- while a write may be in flight it is marked in the store's state (``claim_write``), so an
  overlapping call for the same hub refund never sends a second one;
- a write whose answer was lost, or was that ambiguous 400, is ``unknown``; the lookup answers "no
  trace" only after reading every credit memo of the order, which still says nothing of the
  gateway: the connector claims no complete lookup and no replay window, so the hub leaves an
  unknown refund it cannot find to a person, never re-sending it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from connectors.magento import bodies
from connectors.magento import transformers as tf
from connectors.magento.client import MagentoClient, MagentoError, MaybeApplied, segment
from connectors.magento.fetch import comments_of
from hub.contracts import Execution, Outcome, RefundLookup, RefundResult, StoreContext, StoreDirectory
from hub.errors import PlatformError, PlatformUnavailable

# Magento refuses before doing anything on these statuses; the call can be repeated later.
NOT_APPLIED = {401, 403, 429}
# RefundInvoice / RefundOrder roll back with this message whatever failed in the transaction,
# after the gateway was asked as well as before.
ROLLED_BACK = "Could not save a Creditmemo"
# Creditmemo::STATE_OPEN / STATE_REFUNDED / STATE_CANCELED
MEMO_OUTCOMES = {1: Outcome.PENDING, 2: Outcome.SUCCEEDED, 3: Outcome.FAILED}
WRITING = "creditmemo_write:"  # state key prefix: a credit memo write for a hub refund may be in flight
WRITE_TTL = 900.0  # seconds: longer than any write can take, the store's own timeouts included


class InFlight(PlatformError):
    """Another call is writing the credit memo of this hub refund, or did and lost the answer."""


def carries(comments: list[Any], hub_refund_id: str) -> bool:
    """Whether any of the comments (dicts or strings) carries ``refund-hub:<hub_refund_id>``."""
    for comment in comments:
        text = comment.get("comment", "") if isinstance(comment, Mapping) else comment
        if any(found.group(1) == hub_refund_id for found in tf.HUB_TAG_RE.finditer(str(text or ""))):
            return True
    return False


def find_creditmemo(client: MagentoClient, order_id: str, hub_refund_id: str) -> dict[str, Any] | None:
    """The order's credit memo whose comments carry this hub refund id, after reading every credit
    memo of the order (``PlatformUnavailable`` if they cannot all be read)."""
    for memo in client.search_all("creditmemos", [[("order_id", str(order_id), "eq")]]):
        if carries(comments_of(client, memo), hub_refund_id):
            return memo
    return None


def claim_write(stores: StoreDirectory, store_id: str, hub_refund_id: str, ttl: float = WRITE_TTL) -> None:
    """Mark the credit memo write of ``hub_refund_id`` as in flight, or raise ``InFlight``.

    Magento cannot refuse a second credit memo, so the mark is what stops two overlapping calls
    (a write-back whose lease ran out, a retry racing the first attempt): the second one finds it
    and sends nothing. It stays after a write that may have happened, until it expires; only a
    write that surely did not happen releases it (``release_write``); ``ttl``: how long it stays."""
    key = f"{WRITING}{hub_refund_id}"
    if stores.get_state(store_id, key):
        raise InFlight(f"a credit memo for {hub_refund_id} may be being written; not sending another")
    token = secrets.token_hex(8)
    stores.set_state(store_id, key, token, ttl=ttl)
    if stores.get_state(store_id, key) != token:  # another call marked it at the same moment
        raise InFlight(f"a credit memo for {hub_refund_id} is being written by another call")


def release_write(stores: StoreDirectory, store_id: str, hub_refund_id: str) -> None:
    stores.set_state(store_id, f"{WRITING}{hub_refund_id}", None)


def surely_not_written(exc: PlatformError) -> bool:
    """Magento refused the write before its transaction (validation, auth, rate limit)."""
    if isinstance(exc, MaybeApplied | InFlight):
        return False
    if isinstance(exc, MagentoError):
        return ROLLED_BACK not in exc.message
    return isinstance(exc, PlatformUnavailable)


def _result(memo: Mapping[str, Any], currency: str) -> RefundResult:
    online = bool(memo.get("transaction_id"))
    try:
        state = int(memo.get("state") or 2)
    except (TypeError, ValueError):
        state = 0
    return RefundResult(
        outcome=MEMO_OUTCOMES.get(state, Outcome.UNKNOWN),
        gateway_refund_id=str(memo["entity_id"]),
        amount=tf.minor(memo.get("grand_total"), currency),
        currency=currency,
        raw_status="online_creditmemo" if online else "offline_creditmemo",
    )


def _failure(exc: PlatformError) -> RefundResult:
    if isinstance(exc, InFlight):
        return RefundResult(outcome=Outcome.UNKNOWN, code="in_flight", message=str(exc))
    if isinstance(exc, MaybeApplied):
        return RefundResult(outcome=Outcome.UNKNOWN, code="maybe_applied", message=str(exc))
    if isinstance(exc, MagentoError) and ROLLED_BACK in exc.message:
        # the gateway may have refunded before the rollback: only a person can tell
        return RefundResult(outcome=Outcome.UNKNOWN, code="rolled_back", message=exc.message)
    if isinstance(exc, PlatformUnavailable) or getattr(exc, "status", None) in NOT_APPLIED:
        return RefundResult(outcome=Outcome.UNAVAILABLE, code="unavailable", message=str(exc))
    status = getattr(exc, "status", None)
    return RefundResult(outcome=Outcome.FAILED, code=str(status or "error"), message=getattr(exc, "message", str(exc)))


def tagged_comment(hub_refund_id: str, headline: str, note: str = "") -> str:
    return bodies.hub_comment(hub_refund_id, f"{headline}. {note}".strip() if note else headline)


def refund_on_platform(
    client: MagentoClient, stores: StoreDirectory, store: StoreContext, execution: Execution
) -> RefundResult:
    """An online credit memo on the order's paid invoice: Magento refunds through its payment module."""
    order_id = execution.order_id or execution.payment_extra.get("order_id", "")
    if not order_id:
        return RefundResult(outcome=Outcome.FAILED, code="no_order", message="execution names no Magento order")
    try:
        existing = find_creditmemo(client, order_id, execution.hub_refund_id)
        if existing is not None:
            return _result(existing, execution.currency)
        order = client.get(f"orders/{segment(order_id)}")
        invoices = client.search("invoices", [[("order_id", str(order_id), "eq")]])
        invoice = next((i for i in invoices if int(i.get("state") or 0) == 2), None)  # 2 = paid
        if invoice is not None:
            claim_write(stores, store.id, execution.hub_refund_id)
    except InFlight as exc:
        return _failure(exc)
    except PlatformError as exc:  # reads only: nothing was sent yet
        return _failure(PlatformUnavailable(str(exc)) if isinstance(exc, MaybeApplied) else exc)
    if invoice is None:
        return RefundResult(outcome=Outcome.FAILED, code="no_invoice", message="the order has no paid invoice")
    text = tagged_comment(execution.hub_refund_id, "Refund through Magento", execution.note)
    body = bodies.creditmemo(
        order,
        lines=execution.lines,
        shipping=execution.shipping,
        total=execution.amount,
        comment=text,
        notify=bool(store.settings.get("notify_customer", True)),
        online=True,
    )
    try:
        memo_id = client.post(f"invoice/{segment(invoice['entity_id'])}/refund", body)
    except PlatformError as exc:
        if surely_not_written(exc):
            release_write(stores, store.id, execution.hub_refund_id)
        return _failure(exc)
    try:
        return _result(client.get(f"creditmemo/{segment(memo_id)}"), execution.currency)
    except PlatformError:
        return RefundResult(
            outcome=Outcome.SUCCEEDED,
            gateway_refund_id=str(memo_id),
            amount=execution.amount,
            currency=execution.currency,
            raw_status="online_creditmemo",
        )


def get_platform_refund(client: MagentoClient, lookup: RefundLookup) -> RefundResult | None:
    """How a platform-routed refund ended: its credit memo by id, else by the hub id in the comments
    of every credit memo of the order; ``unknown`` when that cannot be read in full. None ("no
    trace") proves only that Magento saved no credit memo (see the module's docstring)."""
    order_id = lookup.payment_extra.get("order_id")
    try:
        if lookup.gateway_refund_id:
            return _result(client.get(f"creditmemo/{segment(lookup.gateway_refund_id)}"), lookup.currency)
        if not order_id:
            return RefundResult(outcome=Outcome.UNKNOWN, code="no_order", message="lookup names no Magento order")
        memo = find_creditmemo(client, order_id, lookup.hub_refund_id)
    except PlatformError as exc:
        return RefundResult(outcome=Outcome.UNKNOWN, code="lookup_failed", message=str(exc))
    return None if memo is None else _result(memo, lookup.currency)
