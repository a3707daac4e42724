"""What each platform cannot tell a rule, so ``refund-hub policy check`` says so per store instead
of the rule never firing in silence (the table in docs/policy.md, "Rule inputs by platform").

A gap may close with a store setting (Shopify ``final_sale_metafield``, WooCommerce
``final_sale_meta``, a usage provider in ``usage_providers``): then that store is not warned about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.policy.config import KINDS
from hub.policy.policy import Policy


@dataclass(frozen=True)
class Gap:
    why: str
    closed_by: str | None = None  # a store setting that supplies the input after all


GAPS: Mapping[str, Mapping[str, Gap]] = {
    "delivery date": {
        "woocommerce": Gap("WooCommerce records no delivery date; the window starts at fulfilment instead"),
        "magento": Gap("Magento records no delivery date; the window starts at the first shipment instead"),
    },
    "final sale": {
        "shopify": Gap("Shopify has no final-sale flag; name a product metafield", "final_sale_metafield"),
        "woocommerce": Gap("WooCommerce has no final-sale flag; name a product meta key", "final_sale_meta"),
    },
    "product tags": {"magento": Gap("Magento has no product tags")},
    "download count": {
        "shopify": Gap("Shopify does not report downloads"),
        "magento": Gap("Magento's admin API does not report downloads used"),
    },
    "licence activations": {
        name: Gap("no platform reports licence activations; name a usage provider", "usage_providers")
        for name in ("shopify", "woocommerce", "magento")
    },
    "streaming or access": {
        "shopify": Gap("Shopify does not report access to digital goods"),
        "magento": Gap("Magento does not report access to digital goods"),
    },
}


def inputs_used(policy: Policy) -> dict[str, str]:
    """The inputs the policy's rules read, each with the first rule that reads it."""
    s = policy.sections
    used: dict[str, str] = {}
    windows = [("windows.default", s.windows.default)] + [(f"windows.{k}", s.windows.for_kind(k)) for k in KINDS]
    for name, rule in windows:
        if rule.days is not None and rule.start == "delivery":
            used.setdefault("delivery date", name)
    if s.exclusions.final_sale:
        used["final sale"] = "exclusions.final_sale"
    if s.exclusions.tags:
        used["product tags"] = "exclusions.tags"
    if s.digital.max_downloads is not None:
        used["download count"] = "digital.max_downloads"
    if s.digital.activations:
        used["licence activations"] = "digital.activations"
    if s.digital.accessed:
        used["streaming or access"] = "digital.accessed"
    for custom in s.rules:
        text = custom.when
        for word, fact in (("delivery", "delivery date"), (".tags", "product tags"), ("final_sale", "final sale")):
            if word in text:
                used.setdefault(fact, f"rule {custom.name!r}")
    return used


def store_warnings(policy: Policy, stores: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[str]:
    """One line per (store, input) the store's platform cannot supply; ``stores`` is
    ``(store id, connector, settings)``."""
    used = inputs_used(policy)
    lines = []
    for store_id, connector, settings in stores:
        for fact, rule in used.items():
            gap = GAPS.get(fact, {}).get(connector)
            if gap is None or (gap.closed_by and settings.get(gap.closed_by)):
                continue
            hint = f" (store setting {gap.closed_by})" if gap.closed_by else ""
            lines.append(
                f"store {store_id} ({connector}): {rule} needs the {fact}: {gap.why}{hint}; it is unknown there"
            )
    return lines
