"""The customer's side of a request: find the order (number and e-mail, or a signed link), turn
the lines and quantities they pick into a request, preview what the policy would decide, submit
it through the hub's normal intake.

Nothing is shown without proof: the e-mail on the order (compared in constant time) or a signed
link. A wrong number and a wrong e-mail get the same answer, after the same time: every look-up
is answered no sooner than the ``lookup_floor_ms`` after it began (an order that exists costs the
platform more reads than one that does not — the time must not say which). Look-ups are
throttled per address and per order, so the page cannot be used to find out which orders exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic, sleep
from typing import Any

from hub.contracts import Connector, StoreContext
from hub.errors import PlatformError
from hub.ledger import customer as customer_ledger
from hub.ledger import outbox as jobs
from hub.ledger.outbox import JobKind
from hub.ledger.unit import read, write
from hub.models import Line, ReasonCode, RefundRequest, RefundRequested
from hub.pipeline import links
from hub.pipeline.intake import take_event
from hub.pipeline.notice_text import METHOD_WORDS, arrival, money, setting
from hub.runtime.bootstrap import Hub

REASONS = {
    ReasonCode.DAMAGED: "It arrived damaged",
    ReasonCode.DEFECTIVE: "It does not work",
    ReasonCode.NOT_AS_DESCRIBED: "It is not as described",
    ReasonCode.WRONG_ITEM: "I received the wrong item",
    ReasonCode.SIZE_OR_FIT: "Wrong size or fit",
    ReasonCode.NOT_RECEIVED: "It never arrived",
    ReasonCode.CHANGED_MIND: "I changed my mind",
    ReasonCode.OTHER: "Something else",
}
NONCE_LENGTH = 24


class NotFound(Exception):
    """No order the customer may see: one answer for every cause (no enumeration)."""


class TooMany(Exception):
    """Too many look-ups from this address or for this order."""


class BadChoice(ValueError):
    """What the customer picked cannot be asked for (named in plain words)."""


@dataclass(frozen=True)
class Found:
    connector: str
    store: StoreContext
    number: str
    order: RefundRequest  # everything still refundable on it
    token: str  # the signed link to this order's page


def store_of(hub: Hub, connector: str, store_id: str) -> tuple[Connector, StoreContext]:
    """The store whose page this is, if it has one (enabled, its connector can look orders up)."""
    directory = hub.stores.get(connector)
    store = directory.get(store_id) if directory is not None else None
    if store is None or store.settings.get("customer_page") is False:
        raise NotFound(store_id)
    return hub.connectors[connector], store


def _same_email(given: str, on_order: str | None) -> bool:
    return hmac.compare_digest(given.strip().lower().encode(), (on_order or "").strip().lower().encode())


def lookup(hub: Hub, connector: str, store_id: str, number: str, email: str, client: str) -> Found:
    """The order by its number and the e-mail on it; ``client`` is the asker's address (throttled).
    Found or not, answered no sooner than the store's look-up floor after it began."""
    started = monotonic()
    _, store = store_of(hub, connector, store_id)
    try:
        return _lookup(hub, connector, store_id, number, email, client)
    finally:
        pad_to_floor(started, int(setting(hub, store, "lookup_floor_ms")))


def pad_to_floor(started: float, floor_ms: int) -> float:
    """Wait out what is left of ``floor_ms`` since ``started`` (a ``monotonic`` time); the wait."""
    left = max(floor_ms / 1000 - (monotonic() - started), 0.0)
    if left:
        sleep(left)
    return left


def _lookup(hub: Hub, connector: str, store_id: str, number: str, email: str, client: str) -> Found:
    digest = hashlib.sha256(f"{connector}|{store_id}|{number.strip().lower()}".encode()).hexdigest()[:40]
    with write(hub.engine) as conn:
        limit, window = hub.config.customer.lookups_per_hour, timedelta(hours=1)
        if customer_ledger.over_limit(conn, [f"ip:{client}"[:200], f"order:{digest}"], limit, window):
            raise TooMany(client)
    plugin, store = store_of(hub, connector, store_id)
    order = _read_order(plugin, store, number)
    if order is None or not email or not _same_email(email, order.customer.email):
        raise NotFound(number)
    number = number.strip()
    return Found(connector, store, number, order, links.sign(hub, "order", connector, store.id, number))


def by_link(hub: Hub, token: str) -> Found:
    opened = links.open_link(hub, "order", token)
    if opened is None:
        raise NotFound(token)
    connector, store_id, number = opened
    plugin, store = store_of(hub, connector, store_id)
    order = _read_order(plugin, store, number)
    if order is None:
        raise NotFound(number)
    return Found(connector, store, number, order, token)


def _read_order(plugin: Connector, store: StoreContext, number: str) -> RefundRequest | None:
    try:
        return plugin.customer_order(store, number)
    except PlatformError:  # the platform is down or refuses: nothing to show, same answer
        return None


def choose(found: Found, quantities: dict[str, int], reason: str, reason_text: str) -> RefundRequest:
    """The request for the picked lines and quantities (none more than is still refundable)."""
    try:
        code = ReasonCode(reason)
    except ValueError:
        raise BadChoice("Please pick a reason.") from None
    lines: list[Line] = []
    for line in found.order.lines:
        wanted = quantities.get(line.line_id, 0)
        if wanted < 0 or wanted > line.quantity:
            raise BadChoice(f"You can ask for at most {line.quantity} of {line.title or 'this item'}.")
        if wanted:
            tax = line.tax * wanted // line.quantity if line.quantity else 0
            lines.append(line.model_copy(update={"quantity": wanted, "tax": tax}))
    if not lines:
        raise BadChoice("Pick at least one item to return.")
    amount = sum(line.total for line in lines)
    if amount <= 0:
        raise BadChoice("The items you picked cost nothing to refund.")
    return found.order.model_copy(
        update={
            "lines": tuple(lines),
            "shipping": 0,
            "amount": amount,
            "reason": code,
            "reason_text": reason_text.strip()[:500],
            "requested_at": datetime.now(UTC),
        }
    )


@dataclass(frozen=True)
class Preview:
    """What the policy would do, in the customer's words."""

    verdict: str  # eligible | partly | review | offer | ineligible
    headline: str
    explanation: str


def preview(hub: Hub, found: Found, request: RefundRequest) -> Preview:
    from hub.policy import decide as evaluate

    now = datetime.now(UTC)
    policy = hub.policy_for(request.connector, request.store_id)
    with read(hub.engine) as conn:
        history = customer_ledger.preview_history(conn, request, policy.history_lookback_days, now)
    decision = evaluate(policy, request, history, now)
    amount = money(decision.amount, request.currency)
    method, label = _method(request)
    takes = f"Once sent, it usually takes {arrival(hub, found.store, label)} to arrive."
    if decision.action in ("approve", "approve_partial"):
        whole = decision.action == "approve"
        headline = f"Eligible: {amount} back" if whole else f"Partly eligible: {amount} back"
        said = f"If you send this request, {amount} goes back to {method}. {takes}"
        return Preview("eligible" if whole else "partly", headline, said if whole else f"{said} {decision.explanation}")
    if decision.action == "review":
        within = setting(hub, found.store, "review_response")
        said = f"A person at {_name(found)} decides within {within}. {decision.explanation}"
        return Preview("review", "A person will look at it", said)
    if decision.action == "offer_alternative":
        alternative = METHOD_WORDS.get(str(decision.alternative or "store_credit"), "store credit")
        headline = f"Not refundable, but {amount} as {alternative} is on offer"
        said = f"{decision.explanation} If you send this request, you can accept the {alternative} on the next page."
        return Preview("offer", headline, said)
    return Preview("ineligible", "Not eligible", decision.explanation)


def _method(request: RefundRequest) -> tuple[str, str]:
    """The payment in the customer's words, and the key of the arrival table it reads."""
    label = (request.payments[0].platform_label if request.payments else "").lower()
    key = next((k for k in ("stripe", "paypal", "square") if k in label), "platform")
    return METHOD_WORDS.get(key, "your original payment method"), key


def _name(found: Found) -> str:
    return str(found.store.settings.get("store_name") or "the shop")


def new_nonce() -> str:
    return secrets.token_hex(NONCE_LENGTH // 2)


def submit(hub: Hub, found: Found, request: RefundRequest, nonce: str) -> str:
    """The request through the normal intake (then decided by the worker); the refund's id.

    The form's nonce is the request's source: a second click of the same form finds the first
    refund instead of opening another."""
    if len(nonce) != NONCE_LENGTH or not all(c in "0123456789abcdef" for c in nonce):
        raise BadChoice("This form has expired; please start again.")
    plugin, store = hub.connectors[found.connector], found.store
    asked = request.model_copy(update={"source_ref": f"customer:{request.order_id}:{nonce}"})
    refund_id = take_event(hub, plugin, store, RefundRequested(request=asked), None)
    with write(hub.engine) as conn:
        if refund_id is not None:
            jobs.add(conn, JobKind.DECIDE, refund_id)
        else:
            refund_id = customer_ledger.refund_by_source(conn, found.connector, store.id, asked.source_ref)
    if refund_id is None:
        raise BadChoice("We could not take this request; please try again.")
    hub.dispatcher.wake()
    return refund_id


def order_summary(found: Found) -> dict[str, Any]:
    """The order as the page lists it."""
    currency = found.order.currency
    return {
        "number": found.number,
        "lines": [
            {
                "id": line.line_id,
                "title": line.title or line.sku or "Item",
                "quantity": line.quantity,
                "price": money(line.unit_price, currency),
            }
            for line in found.order.lines
        ],
    }
