"""Square gateway adapter: refunds through the official ``squareup`` SDK, status webhooks, a simulator (``sim``).

The account's settings are described in ``gateways.square.settings``.

Square refunds carry no metadata, so the hub refund id travels at the end of ``reason`` as
``[hub_refund_id=...]``; the hub's idempotency key goes into ``idempotency_key`` unchanged when
it fits Square's 45 characters, else as a stable prefix-plus-hash.
"""

from __future__ import annotations

from gateways.square.gateway import SquareGateway

__all__ = ["SquareGateway"]
