"""The Square account settings, read once per adapter instance and checked loudly.

Account settings (``[gateways.<account>]``), per instance, never process-global:

- ``access_token``      Square access token (required; the SDK's ``SQUARE_TOKEN`` default is ignored)
- ``environment``       ``sandbox`` or ``production`` (default ``production``, like the SDK)
- ``base_url``          overrides ``environment``: points the SDK at a simulator or proxy
- ``timeout``           seconds per HTTP call (default 20; the SDK would wait 60)
- ``max_retries``       SDK retries of 408/409/429/5xx answers with the same body (default 2)
- ``webhook_signature_key``           the webhook subscription's signature key
- ``previous_webhook_signature_key``  optional: still accepted while a regenerated key rolls out
- ``notification_url``  the exact public URL of the subscription (the signature covers it; a
  trailing slash matters). When absent, the URL the web layer saw (``Inbound.url``) is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from square.environment import SquareEnvironment

from hub.errors import ConfigError

ENVIRONMENTS = {"sandbox": SquareEnvironment.SANDBOX, "production": SquareEnvironment.PRODUCTION}
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_RETRIES = 2  # the SDK retries 408/409/429/5xx with the same body: same key, safe


@dataclass(frozen=True)
class SquareSettings:
    """What the API client needs; the webhook keys and URL are read when a notification arrives."""

    access_token: str = field(repr=False)
    environment: SquareEnvironment
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    @classmethod
    def from_mapping(cls, account: str, settings: Mapping[str, Any]) -> SquareSettings:
        token = settings.get("access_token")
        if not token:
            raise ConfigError(f"gateways.{account}.access_token", "is required")
        environment = str(settings.get("environment", "production")).lower()
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"gateways.{account}.environment", "must be 'sandbox' or 'production'")
        return cls(
            access_token=str(token),
            environment=ENVIRONMENTS[environment],
            base_url=settings.get("base_url") or None,
            timeout=float(settings.get("timeout", DEFAULT_TIMEOUT)),
            max_retries=int(settings.get("max_retries", DEFAULT_MAX_RETRIES)),
        )
