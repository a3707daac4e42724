"""What the ledger tells the policy about a customer's past, and a per-History index of it.

The index is built once per ``History`` object (linear) and cached on it, so every later
question — "refunds by this email in the last 7 days", "money refunded to this customer in
30 days", "distinct orders refunded in the lookback" — is a binary search, not a scan.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub.models import Payment, RefundRequest

ANY = "any"


@dataclass(frozen=True)
class PriorRefund:
    refund_id: str
    order_id: str
    customer_id: str | None
    email: str | None
    payment_fingerprint: str | None
    amount: int
    currency: str
    state: str
    created_at: datetime


@dataclass(frozen=True)
class History:
    """Supplied by the ledger: this store's earlier refunds by the same customer id OR email OR
    payment instrument, newest first, within the policy's ``history_lookback_days``; excluding
    the refund being decided."""

    prior_refunds: tuple[PriorRefund, ...] = ()
    customer_order_count: int | None = None
    customer_order_total: int | None = None
    payment_disputed: bool = False

    def index(self, ignore_states: frozenset[str]) -> HistoryIndex:
        """The cached index of the refunds whose state is not in ``ignore_states``."""
        if not self.prior_refunds:
            return _NO_HISTORY
        cache: dict[frozenset[str], HistoryIndex] = vars(self).setdefault("_index_cache", {})
        built = cache.get(ignore_states)
        if built is None:
            built = cache[ignore_states] = HistoryIndex.build(self.prior_refunds, ignore_states)
        return built


def normalize_email(email: str | None) -> str | None:
    """Lower-case, trimmed, without a ``+tag`` (``Ann+shop@X.com`` and ``ann@x.com`` are one person)."""
    if not email:
        return None
    local, at, domain = email.strip().lower().partition("@")
    if not at:
        return local or None
    return f"{local.split('+', 1)[0]}@{domain}"


def payment_fingerprint(payment: Payment) -> str:
    """The payment instrument: ``extra["fingerprint"]`` when the connector or gateway knows one
    (a card fingerprint, a PayPal payer id), else the payment itself (``label:reference``)."""
    return payment.extra.get("fingerprint") or f"{payment.platform_label}:{payment.reference}"


@dataclass(frozen=True)
class Identity:
    """Who asks: customer id, normalized email, payment instrument."""

    customer_id: str | None
    email: str | None
    fingerprint: str | None

    @classmethod
    def of(cls, request: RefundRequest) -> Identity:
        fingerprint = payment_fingerprint(request.primary_payment) if request.payments else None
        return cls(request.customer.id, normalize_email(request.customer.email), fingerprint)

    def keys(self) -> dict[str, str | None]:
        """Index keys per identity: ``customer`` is the customer id, or the email for a guest;
        ``any`` is everything the ledger supplied (it already matched id OR email OR card)."""
        email_key = f"email:{self.email}" if self.email else None
        return {
            "customer": f"customer:{self.customer_id}" if self.customer_id else email_key,
            "email": email_key,
            "payment": f"payment:{self.fingerprint}" if self.fingerprint else None,
            ANY: ANY,
        }


def _timestamp(moment: datetime) -> float:
    if moment.tzinfo is None:  # a naive time from the ledger is UTC by the hub's convention
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass
class _Series:
    """The refunds of one identity, oldest first, with prefix counts and sums."""

    times: list[float] = field(default_factory=list)
    distinct_prefix: list[int] = field(default_factory=lambda: [0])
    sums: dict[str, tuple[list[float], list[int]]] = field(default_factory=dict)
    orders: frozenset[str] = frozenset()

    @classmethod
    def build(cls, entries: list[tuple[float, PriorRefund]]) -> _Series:
        """From entries already sorted oldest first."""
        last_seen = {prior.order_id: i for i, (_, prior) in enumerate(entries)}
        series = cls(times=[t for t, _ in entries], orders=frozenset(last_seen))
        running = 0
        for i, (when, prior) in enumerate(entries):
            running += last_seen[prior.order_id] == i
            series.distinct_prefix.append(running)
            times, prefix = series.sums.setdefault(prior.currency, ([], [0]))
            times.append(when)
            prefix.append(prefix[-1] + prior.amount)
        return series

    def count(self, since: float, until: float) -> int:
        return max(0, bisect_right(self.times, until) - bisect_right(self.times, since))

    def distinct_orders(self, since: float, until: float) -> int:
        """Orders whose latest refund falls in (since, until]."""
        lo, hi = bisect_right(self.times, since), bisect_right(self.times, until)
        return max(0, self.distinct_prefix[hi] - self.distinct_prefix[lo])

    def total(self, currency: str, since: float, until: float) -> int:
        times, prefix = self.sums.get(currency, ((), [0]))
        lo, hi = bisect_right(times, since), bisect_right(times, until)
        return max(0, prefix[hi] - prefix[lo])


_EMPTY = _Series()


class HistoryIndex:
    """The counted prior refunds, grouped by identity in one pass on first use; an identity's
    series (prefix counts and sums) is built when first asked for, and every query on it is a
    binary search, O(log n)."""

    def __init__(self, entries: list[tuple[float, PriorRefund]]) -> None:
        self.entries = entries  # oldest first
        self.groups: dict[str, list[tuple[float, PriorRefund]]] | None = None
        self.series: dict[str, _Series] = {}

    @classmethod
    def build(cls, refunds: Iterable[PriorRefund], ignore_states: frozenset[str]) -> HistoryIndex:
        entries = [
            (_timestamp(prior.created_at), prior) for prior in refunds if prior.state.lower() not in ignore_states
        ]
        entries.sort(key=lambda entry: entry[0])  # newest-first input is one reversed run: linear
        return cls(entries)

    def of(self, key: str | None) -> _Series:
        if key is None or not self.entries:
            return _EMPTY
        series = self.series.get(key)
        if series is None:
            if self.groups is None:
                self.groups = self._grouped()
            series = self.series[key] = _Series.build(self.groups.get(key, []))
        return series

    def _grouped(self) -> dict[str, list[tuple[float, PriorRefund]]]:
        groups: dict[str, list[tuple[float, PriorRefund]]] = {ANY: self.entries}
        for entry in self.entries:
            prior = entry[1]
            email = normalize_email(prior.email)
            for key in (
                f"customer:{prior.customer_id}" if prior.customer_id else None,
                f"email:{email}" if email else None,
                f"payment:{prior.payment_fingerprint}" if prior.payment_fingerprint else None,
            ):
                if key is not None:
                    groups.setdefault(key, []).append(entry)
        return groups


_NO_HISTORY = HistoryIndex([])
