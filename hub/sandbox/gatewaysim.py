"""The money-keeping core every gateway simulator shares: payments, refunds, idempotency.

A simulator (Stripe, PayPal, Square) wraps ``SimLedger`` in its vendor's HTTP shapes. The
ledger enforces what real gateways enforce: a refund never exceeds the captured amount less
earlier non-failed refunds; a repeated idempotency key with the same request replays the
first refund; with a different request it is refused. Refunds can start ``pending`` and
settle after a delay, calling ``on_change`` so the simulator can send a signed webhook.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"


class SimError(Exception):
    """A refusal the simulator turns into the vendor's error envelope."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SimRefund:
    id: str
    payment_id: str
    amount: int
    currency: str
    status: str
    key: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    created: float = field(default_factory=time.time)
    settle_at: float | None = None
    final_status: str = SUCCEEDED


@dataclass
class SimPayment:
    id: str
    amount: int
    currency: str
    refund_ids: list[str] = field(default_factory=list)
    disputed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    captured: int | None = None  # captured in part (or not yet): refunds reach only this; None: all of it

    @property
    def captured_amount(self) -> int:
        return self.amount if self.captured is None else self.captured


class SimLedger:
    """Thread-safe store of payments and refunds for one simulated gateway."""

    def __init__(
        self,
        id_prefix: str = "re_",
        settle_after: float = 0.0,
        on_change: Callable[[SimRefund], None] | None = None,
    ) -> None:
        self.id_prefix = id_prefix
        self.settle_after = settle_after
        self.on_change = on_change
        self.payments: dict[str, SimPayment] = {}
        self.refunds: dict[str, SimRefund] = {}
        self._keys: dict[str, tuple[str, str]] = {}  # key -> (fingerprint, refund id)
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.fail_next_refunds = 0  # the next N refunds end failed (declined by the bank)
        self._stop = threading.Event()
        self._settler = threading.Thread(target=self._settle_loop, name="sim-settler", daemon=True)
        self._settler.start()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{int(time.time() * 1000) % 100000:05d}"

    def create_payment(
        self, amount: int, currency: str, payment_id: str | None = None, *, captured: int | None = None, **extra: Any
    ) -> SimPayment:
        with self._lock:
            payment = SimPayment(
                id=payment_id or self.new_id("pay_"), amount=amount, currency=currency, extra=extra, captured=captured
            )
            self.payments[payment.id] = payment
            return payment

    def capture(self, payment_id: str, amount: int) -> SimPayment:
        """Capture ``amount`` more of an authorized payment (never past what was authorized)."""
        with self._lock:
            payment = self.payment(payment_id)
            capturable = payment.amount - payment.captured_amount
            if amount <= 0 or amount > capturable:
                raise SimError(
                    "amount_too_large",
                    f"Capture amount ({amount}) is greater than the amount still capturable ({capturable}).",
                )
            payment.captured = payment.captured_amount + amount
            return payment

    def payment(self, payment_id: str) -> SimPayment:
        try:
            return self.payments[payment_id]
        except KeyError:
            raise SimError("not_found", f"No such payment: {payment_id}") from None

    def refunded(self, payment_id: str, *, include_pending: bool = True) -> int:
        counted = (SUCCEEDED, PENDING) if include_pending else (SUCCEEDED,)
        return sum(r.amount for r in self.refunds_of(payment_id) if r.status in counted)

    def refunds_of(self, payment_id: str) -> list[SimRefund]:
        with self._lock:
            return [self.refunds[i] for i in self.payment(payment_id).refund_ids]

    def refund(
        self,
        payment_id: str,
        amount: int | None,
        key: str | None,
        fingerprint: str,
        metadata: dict[str, Any] | None = None,
        reason: str | None = None,
        pending: bool | None = None,
    ) -> tuple[SimRefund, bool]:
        """Create a refund, or replay the one made with the same key. Returns (refund, replayed)."""
        with self._lock:
            if key is not None and key in self._keys:
                seen_fingerprint, refund_id = self._keys[key]
                if seen_fingerprint != fingerprint:
                    raise SimError(
                        "idempotency_key_reused",
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                    )
                return self.refunds[refund_id], True
            payment = self.payment(payment_id)
            if payment.disputed:
                raise SimError("disputed", f"Payment {payment_id} is under dispute")
            remaining = payment.captured_amount - self.refunded(payment_id)
            if remaining <= 0:
                raise SimError("already_refunded", f"Payment {payment_id} has already been refunded.")
            value = remaining if amount is None else amount
            if value <= 0 or value > remaining:
                raise SimError(
                    "amount_too_large",
                    f"Refund amount ({value}) is greater than unrefunded amount on payment ({remaining}).",
                )
            is_pending = (self.settle_after > 0) if pending is None else pending
            final = FAILED if self.fail_next_refunds > 0 else SUCCEEDED
            if self.fail_next_refunds > 0:
                self.fail_next_refunds -= 1
            refund = SimRefund(
                id=self.new_id(self.id_prefix),
                payment_id=payment_id,
                amount=value,
                currency=payment.currency,
                status=PENDING if is_pending else final,
                key=key,
                metadata=dict(metadata or {}),
                reason=reason,
                final_status=final,
            )
            if is_pending:
                refund.settle_at = time.time() + self.settle_after
            self.refunds[refund.id] = refund
            payment.refund_ids.append(refund.id)
            if key is not None:
                self._keys[key] = (fingerprint, refund.id)
        self._notify(refund)
        return refund, False

    def add_dashboard_refund(self, payment_id: str, amount: int) -> SimRefund:
        """A refund the merchant made in the gateway's dashboard, outside the hub."""
        refund, _ = self.refund(payment_id, amount, key=None, fingerprint="", metadata={}, pending=False)
        return refund

    def _notify(self, refund: SimRefund) -> None:
        if self.on_change is not None:
            self.on_change(refund)

    def _settle_loop(self) -> None:
        while not self._stop.wait(0.05):
            now = time.time()
            settled: list[SimRefund] = []
            with self._lock:
                for refund in self.refunds.values():
                    if refund.status == PENDING and refund.settle_at is not None and refund.settle_at <= now:
                        refund.status = refund.final_status
                        settled.append(refund)
            for refund in settled:
                self._notify(refund)

    def close(self) -> None:
        self._stop.set()
