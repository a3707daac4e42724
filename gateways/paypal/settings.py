"""The PayPal account settings, read once per adapter instance and checked loudly.

Account settings (``[gateways.<account>]``):

- ``client_id``, ``client_secret`` (required): the REST app's credentials; the adapter fetches
  and caches its own OAuth token (``/v1/oauth2/token``) and hands it to the SDK.
- ``environment``: ``sandbox`` (default, like the SDK) or ``production``.
- ``base_url``: overrides ``environment`` (a simulator's URL); reaches the SDK through a
  ``Configuration`` subclass overriding ``get_base_uri``.
- ``timeout``: seconds per HTTP call (default 30; the SDK's own default is 60).
- ``webhook_id``: the webhook's id in the PayPal app, needed to verify status webhooks;
  ``previous_webhook_id`` still verifies events signed for the webhook it replaced.
- ``webhook_tolerance``: seconds a ``PAYPAL-TRANSMISSION-TIME`` may lie from now (default 900).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.errors import ConfigError

# The SDK's ``Configuration.environments`` (Server.DEFAULT), written out so that reading the
# settings (a web process verifying webhooks does) imports no SDK; a test holds them equal.
ENVIRONMENTS = {"sandbox": "https://api-m.sandbox.paypal.com", "production": "https://api-m.paypal.com"}
DEFAULT_TIMEOUT = 30.0  # seconds; the SDK's own default is 60
DEFAULT_WEBHOOK_TOLERANCE = 900.0  # seconds a webhook transmission time may lie from now


@dataclass(frozen=True)
class PayPalSettings:
    client_id: str
    client_secret: str = field(repr=False)
    base_url: str
    timeout: float = DEFAULT_TIMEOUT
    webhook_id: str | None = None
    previous_webhook_id: str | None = None
    webhook_tolerance: float = DEFAULT_WEBHOOK_TOLERANCE

    @classmethod
    def from_mapping(cls, account: str, settings: Mapping[str, Any]) -> PayPalSettings:
        def key(name: str) -> str:
            return f"gateways.{account}.{name}"

        for required in ("client_id", "client_secret"):
            if not settings.get(required):
                raise ConfigError(key(required), "is required")
        environment = str(settings.get("environment", "sandbox")).lower()
        if environment not in ENVIRONMENTS:
            raise ConfigError(key("environment"), f"must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        base_url = settings.get("base_url") or ENVIRONMENTS[environment]
        return cls(
            client_id=str(settings["client_id"]),
            client_secret=str(settings["client_secret"]),
            base_url=str(base_url).rstrip("/"),
            timeout=_seconds(settings, "timeout", DEFAULT_TIMEOUT, key),
            webhook_id=settings.get("webhook_id") or None,
            previous_webhook_id=settings.get("previous_webhook_id") or None,
            webhook_tolerance=_seconds(settings, "webhook_tolerance", DEFAULT_WEBHOOK_TOLERANCE, key),
        )


def _seconds(settings: Mapping[str, Any], name: str, default: float, key: Any) -> float:
    try:
        value = float(settings.get(name, default))
    except (TypeError, ValueError):
        raise ConfigError(key(name), f"must be a number of seconds, not {settings.get(name)!r}") from None
    if value <= 0:
        raise ConfigError(key(name), "must be positive")
    return value
