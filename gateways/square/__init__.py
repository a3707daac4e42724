"""Square gateway adapter: refunds through the official ``squareup`` SDK, status webhooks, a simulator.

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

Square refunds carry no metadata, so the hub refund id travels at the end of ``reason`` as
``[hub_refund_id=...]``; the hub's idempotency key goes into ``idempotency_key`` unchanged when
it fits Square's 45 characters, else as a stable prefix-plus-hash.
"""

from __future__ import annotations

from gateways.square.gateway import SquareGateway

__all__ = ["SquareGateway"]
