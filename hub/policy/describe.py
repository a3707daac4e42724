"""The policy in plain words, one line per rule, for ``refund-hub policy check`` and the docs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hub.policy.config import KINDS, START_FALLBACK, Threshold, WindowRule
from hub.policy.windows import EVENT_WORDS

if TYPE_CHECKING:
    from hub.policy.policy import Policy

_KIND_WORDS = {
    "physical": "Physical goods",
    "digital": "Digital goods",
    "service": "Services",
    "subscription": "Subscriptions",
    "gift_card": "Gift cards",
}


def money(threshold: Threshold) -> str:
    specific = ", ".join(f"{code} {value.normalize():f}" for code, value in sorted(threshold.per_currency.items()))
    if threshold.default is None:
        return f"{specific} (other currencies: no limit)"
    rates = threshold.rates
    if rates.base:
        base = f"{threshold.default.normalize():f} {rates.base}, converted to the order's currency"
    elif rates.named():
        base = f"{threshold.default.normalize():f} in the order's currency, converted for small-unit currencies"
    else:
        base = f"{threshold.default.normalize():f} in the order's currency"
    return f"{base} ({specific})" if specific else base


def words(values: Iterable[str]) -> str:
    return ", ".join(sorted(str(v).replace("_", " ") for v in values))


def _window(kind: str, rule: WindowRule, mode: str, zone: str) -> str:
    who = _KIND_WORDS.get(kind, "Orders without lines")
    if rule.days is None:
        return f"{who} can be refunded at any time."
    chain = START_FALLBACK[rule.start]
    start = EVENT_WORDS[rule.start]
    if len(chain) > 1:
        start += f" (if unknown: {', then '.join(EVENT_WORDS[e] for e in chain[1:])})"
    grace = f" plus {rule.grace_days} grace days" if rule.grace_days else ""
    end = f"until the end of that day in {zone}" if mode == "calendar" else "to the exact second (days x 24 h)"
    return f"{who} can be refunded within {rule.days} days{grace} of {start}, {end}."


def describe(policy: Policy) -> list[str]:
    s = policy.sections
    lines = [f"Policy {policy.version}; times in {s.timezone}."]
    lines += _window_lines(policy)
    lines += _exclusion_lines(policy)
    lines += _digital_lines(policy)
    lines += _amount_lines(policy)
    lines += _abuse_lines(policy)
    h = s.hard
    lines.append(
        f"Always: an open dispute on the payment → {h.dispute}; a currency that differs from the order or payment → "
        f"{h.currency_mismatch}; more than captured minus already refunded → {h.over_refundable}. "
        "Nothing overrides these."
    )
    alt = s.alternatives
    if alt.offer:
        within = (
            f" (window denials only within {alt.within_days} days after the window closed)" if alt.within_days else ""
        )
        lines.append(f"Instead of denying ({words(alt.instead_of)}), offer {alt.offer.replace('_', ' ')}{within}.")
    for custom in s.rules:
        lines.append(f"Custom rule {custom.name!r}: when {custom.when} → {custom.effect}.")
    lines.append(f"History: refunds of the last {s.lookback_days} days count (except states {words(s.ignore_states)}).")
    return lines


def _window_lines(policy: Policy) -> list[str]:
    s = policy.sections
    lines = [
        _window("default", s.windows.default, s.windows.mode, s.timezone).replace(
            "Orders without lines", "By default, items"
        )
    ]
    for kind in KINDS:
        rule = s.windows.for_kind(kind)
        if rule != s.windows.default and not (kind == "gift_card" and s.exclusions.gift_cards):
            lines.append(_window(kind, rule, s.windows.mode, s.timezone))
    return lines


def _exclusion_lines(policy: Policy) -> list[str]:
    ex = policy.sections.exclusions
    excluded = []
    if ex.gift_cards:
        excluded.append("gift cards")
    if ex.final_sale:
        excluded.append("final-sale items")
    if ex.skus.source:
        excluded.append(f"SKUs {', '.join(ex.skus.source)}")
    if ex.tags.source:
        excluded.append(f"items tagged {', '.join(ex.tags.source)}")
    if ex.kinds:
        excluded.append(f"{words(ex.kinds)} products")
    if not excluded:
        return []
    outcome = "denied" if ex.effect == "deny" else "sent to review"
    line = f"Not refundable ({outcome}): {'; '.join(excluded)}."
    if ex.review_reasons and ex.effect == "deny":
        line += f" Excluded items reported as {words(ex.review_reasons)} go to review instead (gift cards excepted)."
    return [line]


def _digital_lines(policy: Policy) -> list[str]:
    d = policy.sections.digital
    lines = []
    used = []
    if d.max_downloads is not None:
        used.append("downloaded" if d.max_downloads == 0 else f"downloaded more than {d.max_downloads} times")
    if d.activations:
        used.append("licence activated")
    if d.accessed:
        used.append("streamed or accessed")
    if used:
        if d.when_used == "deny":
            outcome = "not refunded, line by line: the unused lines of a bundle are still refunded"
        else:
            outcome = "sent to review"
        lines.append(f"Digital lines that were {' or '.join(used)} are {outcome}.")
    if d.when_unknown == "review":
        lines.append("Digital lines whose usage the store does not report are sent to review.")
    return lines


def _amount_lines(policy: Policy) -> list[str]:
    s = policy.sections
    a = s.amounts
    lines = []
    if a.review_above is not None:
        lines.append(f"Refunds up to {money(a.review_above)} are approved automatically; larger ones go to review.")
    if a.max_per_refund is not None:
        lines.append(f"At most {money(a.max_per_refund)} per refund; above that → {a.cap_effect}.")
    if a.customer_cap is not None:
        c = a.customer_cap
        lines.append(f"At most {money(c.amount)} per {c.by} every {c.days} days; above that → {c.effect}.")
    shipping = {
        "always": "Shipping is refunded when asked for.",
        "never": "Original shipping is never refunded.",
        "merchant_fault": f"Original shipping is refunded only when the reason is {words(s.merchant_fault)}.",
    }
    lines.append(shipping[s.shipping])
    for fee in s.fees:
        amount = " + ".join(
            p
            for p in (
                fee.percent_text if fee.percent else "",
                f"{money(fee.fixed)}{' per unit' if fee.per == 'unit' else ''}" if fee.fixed else "",
            )
            if p
        )
        waived = f", waived when the reason is {words(fee.waive_reasons)}" if fee.waive_reasons else ""
        lines.append(f"A {fee.name} fee of {amount} is deducted from {words(fee.kinds)} lines{waived}.")
    return lines


def _abuse_lines(policy: Policy) -> list[str]:
    ab = policy.sections.abuse
    lines = []
    if ab.blocklist:
        lines.append(f"Blocklisted emails, domains, customers or payment instruments → {ab.blocklist_effect}.")
    if ab.allowlist:
        lines.append("Allowlisted customers skip the velocity and refund-ratio checks (not the hard rules).")
    for v in ab.velocity:
        lines.append(f"More than {v.max} refunds per {v.by} within {v.label} → {v.effect}.")
    if ab.ratio is not None:
        r = ab.ratio
        lines.append(
            f"Refunds on more than {(r.max * 100).normalize():f}% of a customer's orders "
            f"(from {r.min_orders} orders on) → {r.effect}."
        )
    return lines
