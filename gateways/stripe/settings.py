"""The Stripe account settings, read per adapter instance (nothing process-global) and checked loudly.

Account settings (``[gateways.<account>]``), all per instance, nothing process-global:

- ``api_key`` (required): secret or restricted key (``sk_...``/``rk_...``) with refund write access.
- ``webhook_secret``: the endpoint's signing secret (``whsec_...``) for ``Stripe-Signature``.
- ``previous_webhook_secret`` (optional): the secret being rotated out; still accepted.
- ``webhook_tolerance`` (optional, seconds, default 300): oldest signature timestamp accepted.
- ``max_network_retries`` (default 2): the SDK's own retries of 409/5xx/network errors; they
  reuse the same ``Idempotency-Key``, which Stripe replays, so they never refund twice.
- ``timeout`` (seconds, default 30; the SDK's default is 80).
- ``base_url`` (optional): where the API lives, e.g. a ``StripeSimulator`` (``base_addresses``).

``payment_extra["stripe_intent_id"]`` (WooCommerce's ``_stripe_intent_id``) makes a refund target
the PaymentIntent even when the payment reference is a charge id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.errors import ConfigError

DEFAULT_TIMEOUT = 30.0  # seconds; the SDK's own default is 80
DEFAULT_RETRIES = 2  # StripeClient retries nothing unless told (research/gateways.md §1.5)
DEFAULT_TOLERANCE = 300  # seconds, stripe.Webhook.DEFAULT_TOLERANCE


@dataclass(frozen=True)
class StripeSettings:
    """What the API client needs; the webhook settings are read when a webhook arrives."""

    api_key: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_network_retries: int = DEFAULT_RETRIES
    base_url: str | None = None

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> StripeSettings:
        api_key = settings.get("api_key")
        if not api_key:
            raise ConfigError("api_key", "a Stripe secret or restricted key is required")
        return cls(
            api_key=str(api_key),
            timeout=float(settings.get("timeout", DEFAULT_TIMEOUT)),
            max_network_retries=int(settings.get("max_network_retries", DEFAULT_RETRIES)),
            base_url=str(settings["base_url"]).rstrip("/") if settings.get("base_url") else None,
        )


def webhook_secrets(settings: Mapping[str, Any]) -> list[str]:
    """The endpoint's signing secret, then the one being rotated out (if any)."""
    return [s for s in (settings.get("webhook_secret"), settings.get("previous_webhook_secret")) if s]


def webhook_tolerance(settings: Mapping[str, Any]) -> int:
    return int(settings.get("webhook_tolerance", DEFAULT_TOLERANCE))
