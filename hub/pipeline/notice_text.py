"""The words of a notice: what a step tells the customer, rendered from templates per store and
locale (Jinja; plain text and HTML), with the refund's timeline so far.

Templates are looked up as ``<store>/<locale>/<step>``, ``<store>/<step>``, ``<locale>/<step>``,
``en/<step>``: first in ``[email] templates_path``, then among the built-in ones. The first line
of a ``.txt`` template is ``Subject: …``. The same text template, rendered with
``channel = "platform"``, is the order note or comment the platform shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hub.contracts import StoreContext
from hub.ledger.records import Refund
from hub.models.money import format_decimal
from hub.runtime.bootstrap import Hub

BUILT_IN = Path(__file__).with_name("notice_templates")
STEPS = ("received", "in_review", "approved", "denied", "offered", "completed", "credited")
METHOD_WORDS = {
    "stripe": "your card",
    "square": "your card",
    "paypal": "your PayPal account",
    "platform": "your original payment method",
    "store_credit": "store credit",
    "coupon": "a coupon",
    "gift_card": "a gift card",
}
DEFAULT_NEXT_STEP = (
    "If you think this is wrong, reply to this message with your order number and what happened; "
    "a person will look at it again."
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class Moment:
    """One line of the customer's timeline."""

    at: datetime
    label: str


@lru_cache(maxsize=8)
def _environment(extra: str | None) -> Environment:
    loaders = [FileSystemLoader(extra)] if extra else []
    return Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUILT_IN))]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a template naming what the hub does not give fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def setting(hub: Hub, store: StoreContext | None, key: str) -> Any:
    """A store's own value for a customer setting, else the hub's ``[customer]`` one."""
    if store is not None and store.settings.get(key) is not None:
        return store.settings[key]
    return getattr(hub.config.customer, key)


def money(minor: int | None, currency: str) -> str:
    return f"{format_decimal(int(minor or 0), currency)} {currency}"


def method_of(hub: Hub, refund: Refund) -> str:
    """The gateway type (stripe, paypal, square) the refund goes back through, or ``platform``."""
    route = refund.route or ""
    if route.startswith("gateway:") and route[8:] in hub.config.gateways:
        return hub.config.gateway_type(route[8:])
    return route.removeprefix("gateway:") or "platform"


def arrival(hub: Hub, store: StoreContext | None, method: str) -> str:
    """How long the money takes for ``method``: the store's table over the hub's."""
    table = {**hub.config.customer.arrival, **dict((store.settings.get("arrival") if store else None) or {})}
    return str(table.get(method) or table.get("platform") or "a few business days")


def with_bonus(store: StoreContext | None, amount: int) -> tuple[int, int]:
    """What an offered store credit is worth: the amount and the store's bonus on it (its
    ``store_credit_bonus_percent``, e.g. 10 for 110 %); (total, bonus)."""
    percent = int((store.settings.get("store_credit_bonus_percent") if store else 0) or 0)
    bonus = amount * max(percent, 0) // 100
    return amount + bonus, bonus


def context(
    hub: Hub,
    store: StoreContext | None,
    refund: Refund,
    step: str,
    *,
    timeline: list[Moment],
    links: dict[str, str],
    credit: Any = None,
) -> dict[str, Any]:
    """Everything a template may name, in the customer's words."""
    decision = (refund.decision or {}).get("decision") or {}
    reviewed = (refund.decision or {}).get("reviewed") or {}
    method = method_of(hub, refund)
    offered, _ = with_bonus(store, int(decision.get("amount") or 0))
    bonus_percent = int((store.settings.get("store_credit_bonus_percent") if store else 0) or 0)
    reason = reviewed.get("reason") if reviewed.get("verdict") == "deny" and reviewed.get("reason") else None
    return {
        "step": step,
        "store_name": str((store.settings.get("store_name") if store else None) or "the shop"),
        "order": refund.order_id,
        "refund_id": refund.id,
        "requested": money(refund.amount, refund.currency),
        "amount": money(refund.approved_amount or decision.get("amount") or refund.amount, refund.currency),
        "method": METHOD_WORDS.get(method, "your original payment method"),
        "arrival": arrival(hub, store, method),
        "review_response": str(setting(hub, store, "review_response")),
        "reason": reason or decision.get("explanation") or "",
        "next_step": str((store.settings.get("denied_next_step") if store else None) or DEFAULT_NEXT_STEP),
        "alternative": METHOD_WORDS.get(str(decision.get("alternative") or "store_credit"), "store credit"),
        "offer": money(credit.amount if credit is not None else offered, refund.currency),
        "bonus_percent": bonus_percent,
        "credit": credit,
        "credit_arrival": arrival(hub, store, getattr(credit, "kind", "store_credit")),
        "timeline": timeline,
        "status_url": links.get("status", ""),
        "feedback_url": links.get("feedback", ""),
    }


def render(hub: Hub, store: StoreContext | None, step: str, channel: str, values: dict[str, Any]) -> Rendered:
    locale = str((store.settings.get("locale") if store else None) or "en")
    env = _environment(str(hub.config.email.templates_path) if hub.config.email.templates_path else None)
    store_id = store.id if store is not None else "-"
    names = [f"{store_id}/{locale}/{step}", f"{store_id}/{step}", f"{locale}/{step}", f"en/{step}"]
    data = {**values, "channel": channel, "locale": locale}
    text = env.select_template([f"{n}.txt" for n in names]).render(data).strip()
    first, _, rest = text.partition("\n")
    subject = first.removeprefix("Subject:").strip() if first.startswith("Subject:") else f"Order {values['order']}"
    body = rest.strip() if first.startswith("Subject:") else text
    html = None
    if channel == "email":
        html = env.select_template([f"{n}.html" for n in names]).render({**data, "subject": subject}).strip()
    return Rendered(subject=subject, text=body + "\n", html=html)
