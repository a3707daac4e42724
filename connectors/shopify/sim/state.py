"""What the Shopify simulator holds: shops with their own tokens, orders, transactions, returns, refunds.

Amounts are integer minor units in the shop's currency; an order may show a different
presentment currency at a fixed ``rate``. Ids are plain integers, rendered as gids on the wire.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from connectors.shopify.settings import SCOPES
from hub.contracts import Inbound
from hub.testing.signing import inbound

# Seeded from the clock: a simulator restarted next to a hub that kept its database must not
# hand out the order and return ids of the previous run again (Shopify's ids never repeat).
_ids = itertools.count(int(time.time() * 1000))


def next_id() -> int:
    return next(_ids)


def iso(moment: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if moment is None else moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


KINDS = ("physical", "digital", "gift_card", "subscription")


@dataclass
class SimLine:
    id: int
    title: str
    price: int  # one unit, shop minor units
    quantity: int = 1
    tax: int = 0  # the whole line
    sku: str | None = None
    kind: str = "physical"
    product_id: int = field(default_factory=next_id)
    variant_id: int = field(default_factory=next_id)
    # the line's product as the merchant set it up: tags, and metafields by ``namespace.key``
    tags: tuple[str, ...] = ()
    metafields: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (type, value)

    @property
    def requires_shipping(self) -> bool:
        return self.kind in ("physical", "subscription")

    @property
    def total(self) -> int:
        return self.price * self.quantity + self.tax


@dataclass
class SimTransaction:
    id: int
    order_id: int
    kind: str  # SALE, CAPTURE, AUTHORIZATION, REFUND
    gateway: str
    amount: int
    status: str = "SUCCESS"
    parent_id: int | None = None
    authorization: str | None = None
    payment_id: str | None = None
    receipt: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=iso)
    ledger_id: str | None = None  # the SimLedger payment or refund behind a Shopify-processed leg
    manual: bool = False


@dataclass
class SimReturnLine:
    id: int
    line_id: int
    quantity: int
    reason: str = "UNKNOWN"
    note: str = ""
    processed: int = 0  # what returnProcess disposed of


@dataclass
class SimReturn:
    id: int
    order_id: int
    name: str
    lines: list[SimReturnLine]
    status: str = "REQUESTED"
    created_at: str = field(default_factory=iso)
    updated_at: str | None = None  # the last status change
    closed_at: str | None = None
    decline: dict[str, str] | None = None
    refund_ids: list[int] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return f"gid://shopify/Return/{self.id}"


@dataclass
class SimRefund:
    id: int
    order_id: int
    note: str | None
    lines: list[tuple[int, int]]  # (line id, quantity)
    transaction_ids: list[int]
    return_id: int | None = None
    created_at: str = field(default_factory=iso)

    @property
    def gid(self) -> str:
        return f"gid://shopify/Refund/{self.id}"


@dataclass
class SimOrder:
    id: int
    shop: str
    name: str
    email: str
    customer_id: int
    currency: str
    lines: list[SimLine]
    shipping: int = 0
    presentment_currency: str | None = None
    rate: Decimal = Decimal(1)
    taxes_included: bool = False  # prices hold their tax (the lines' tax is part of price, not on top)
    created_at: str = field(default_factory=iso)
    fulfilled_at: str | None = None
    delivered_at: str | None = None
    transactions: list[SimTransaction] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    metafields: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.id}"

    @property
    def total(self) -> int:
        if self.taxes_included:
            return sum(line.price * line.quantity for line in self.lines) + self.shipping
        return sum(line.total for line in self.lines) + self.shipping

    @property
    def shown_currency(self) -> str:
        return self.presentment_currency or self.currency

    def shown(self, amount: int) -> int:
        """Shop minor units at the order's presentment rate (rounded down)."""
        return int((Decimal(amount) * self.rate).to_integral_value(rounding=ROUND_DOWN))

    def line(self, line_id: int) -> SimLine | None:
        return next((item for item in self.lines if item.id == line_id), None)

    def transaction(self, tx_id: int) -> SimTransaction | None:
        return next((tx for tx in self.transactions if tx.id == tx_id), None)

    @property
    def payments(self) -> list[SimTransaction]:
        return [tx for tx in self.transactions if tx.kind in ("SALE", "CAPTURE") and tx.status == "SUCCESS"]


@dataclass
class SimShop:
    domain: str
    currency: str = "USD"
    name: str = ""
    id: int = field(default_factory=next_id)
    access_tokens: dict[str, float | None] = field(default_factory=dict)  # token -> expiry (None: never)
    refresh_tokens: dict[str, float] = field(default_factory=dict)
    orders: dict[int, SimOrder] = field(default_factory=dict)
    returns: dict[int, SimReturn] = field(default_factory=dict)
    refunds: dict[int, SimRefund] = field(default_factory=dict)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)  # topic (REST form) -> URIs
    idempotency: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # key -> (fingerprint, refund)
    in_flight: set[str] = field(default_factory=set)  # refundCreate keys being processed right now
    refreshes: int = 0  # refresh-token grants answered
    migrated: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)  # old token -> (until, grant)
    # tokens of a merchant-created custom app: they work, but Shopify's migration is for public
    # apps' tokens, so the simulator refuses to migrate them (Shopify documents no exact answer)
    custom_app_tokens: set[str] = field(default_factory=set)
    # what the shop granted the app: fields of a scope it lacks answer null and ACCESS_DENIED
    scopes: frozenset[str] = frozenset(SCOPES)

    def token_valid(self, token: str) -> bool:
        if token not in self.access_tokens:
            return False
        expiry = self.access_tokens[token]
        return expiry is None or expiry > time.time()

    def issue(self, *, expiring: bool, ttl: float, refresh_ttl: float) -> dict[str, Any]:
        """A token grant as the token endpoint answers it."""
        token = "shpat_" + secrets.token_hex(16)
        grant: dict[str, Any] = {"access_token": token, "scope": "read_orders,write_orders,read_returns,write_returns"}
        if not expiring:
            self.access_tokens[token] = None
            return grant
        refresh = "shprt_" + secrets.token_hex(16)
        self.access_tokens[token] = time.time() + ttl
        self.refresh_tokens[refresh] = time.time() + refresh_ttl
        grant.update(expires_in=int(ttl), refresh_token=refresh, refresh_token_expires_in=int(refresh_ttl))
        return grant

    def customer_orders(self, customer_id: int) -> list[SimOrder]:
        return [o for o in self.orders.values() if o.customer_id == customer_id]

    def find_order(self, gid: str | int | None) -> SimOrder | None:
        return self.orders.get(tail(gid))

    def find_return(self, gid: str | int | None) -> SimReturn | None:
        return self.returns.get(tail(gid))

    def find_refund(self, gid: str | int | None) -> SimRefund | None:
        return self.refunds.get(tail(gid))


def domain_of(shop: SimShop | str) -> str:
    return shop.domain if isinstance(shop, SimShop) else shop


def tail(gid: str | int | None) -> int:
    try:
        return int(str(gid).rsplit("/", 1)[-1])
    except ValueError:
        return -1


@dataclass(frozen=True)
class SimCall:
    """A mutation an app sent, as the simulator received it."""

    shop: str
    field: str
    variables: Mapping[str, Any]
    key: str | None = None


@dataclass(frozen=True)
class SimWebhook:
    topic: str
    shop: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def as_inbound(self, **header_changes: str) -> Inbound:
        """The delivery as the hub's web layer would see it (``header_changes`` to tamper)."""
        return inbound(self.body, {**self.headers, **header_changes})
