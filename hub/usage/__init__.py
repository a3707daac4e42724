"""What a store's usage providers (``refund_hub.usage``) say about the digital lines of a request,
merged into each line's ``DigitalUsage`` before the policy decides.

A provider fills only what the platform left unknown; its failures (an exception, a provider name
no package provides) are logged and leave the fact unknown — the policy's ``when_unknown`` and
its explanation then speak — never a crashed delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from hub.contracts.stores import StoreContext
from hub.contracts.usage import UsageProvider
from hub.errors import PluginError
from hub.models import DigitalUsage, Line, ProductKind, RefundRequest
from hub.runtime import plugins

log = logging.getLogger(__name__)
SETTING = "usage_providers"


def providers_for(store: StoreContext) -> list[UsageProvider]:
    """The providers the store's ``usage_providers`` setting names, in its order."""
    named = store.settings.get(SETTING) or ()
    if isinstance(named, str):
        named = [named]
    found = []
    for name in named:
        try:
            found.append(_provider(str(name)))
        except PluginError as exc:
            log.error("store %s: usage provider %r unavailable, activations stay unknown: %s", store.id, name, exc)
    return found


@lru_cache(maxsize=32)
def _provider(name: str) -> UsageProvider:
    cls = plugins.load(plugins.USAGE, [name])[name]
    return cls()  # type: ignore[no-any-return]


def with_usage(
    store: StoreContext, request: RefundRequest, providers: Sequence[UsageProvider] | None = None
) -> RefundRequest:
    """The request with each digital line's unknown activations asked of the providers (the
    store's own when ``providers`` is None); the same object when nothing was learned."""
    chosen = providers_for(store) if providers is None else list(providers)
    if not chosen or not any(line.kind is ProductKind.DIGITAL for line in request.lines):
        return request
    lines = tuple(_line(store, request.order_id, line, chosen) for line in request.lines)
    if lines == request.lines:
        return request
    return request.model_copy(update={"lines": lines})


def _line(store: StoreContext, order_id: str, line: Line, providers: Sequence[UsageProvider]) -> Line:
    usage = line.usage or DigitalUsage()
    if line.kind is not ProductKind.DIGITAL or usage.activations is not None:
        return line
    for provider in providers:
        try:
            answer = provider.activations(store, order_id, line)
        except Exception as exc:  # noqa: BLE001 - a provider's failure is an unknown, not a lost delivery
            log.warning("usage provider %s failed for %s line %s: %s", provider.name, order_id, line.line_id, exc)
            continue
        if isinstance(answer, int) and not isinstance(answer, bool) and answer >= 0:
            return line.model_copy(update={"usage": usage.model_copy(update={"activations": answer})})
    return line
