"""Per-line eligibility: exclusions, the refund window of the line's kind, digital-goods use.

Lines are judged one by one, so a bundle with one used download still refunds the rest. A request
without lines is judged as one item against the default window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from hub.models import Line, ProductKind
from hub.policy.context import Context, item_name, line_label
from hub.policy.unknowns import usage_unknown, window_unknown
from hub.policy.windows import EVENT_WORDS, Window, window_for


@dataclass(frozen=True)
class Finding:
    """A reason this item cannot be refunded as asked; ``review`` sends the request to a person,
    otherwise the item is removed (``offerable``: an alternative may be offered instead)."""

    rule: str
    detail: str
    message: str
    review: bool = False
    offerable: bool = False


@dataclass
class Item:
    line: Line | None
    requested: int  # this item's share of the requested amount
    findings: list[Finding] = field(default_factory=list)

    @property
    def line_id(self) -> str | None:
        return None if self.line is None else self.line.line_id

    @property
    def blocked(self) -> bool:
        return any(not f.review for f in self.findings)

    @property
    def offerable(self) -> bool:
        blocks = [f for f in self.findings if not f.review]
        return bool(blocks) and all(f.offerable for f in blocks)


def judge_items(ctx: Context, items: list[Item]) -> None:
    windows: dict[str | None, Window | None] = {}
    fell_back: set[str] = set()  # kinds whose closed window was counted from an earlier event
    for item in items:
        line = item.line
        if line is not None:
            _exclusions(ctx, item, line)
        kind = None if line is None else line.kind.value
        if kind not in windows:
            rule = ctx.sections.windows.default if kind is None else ctx.sections.windows.for_kind(kind)
            windows[kind] = window_for(rule, ctx.request.order, ctx.policy.zone, ctx.sections.windows.mode)
        window = windows[kind]
        if window is not None and ctx.asked_at >= window.closes:
            _window_finding(ctx, item, window, kind or "default")
            if window.fell_back and (kind or "default") not in fell_back:
                fell_back.add(kind or "default")
                window_unknown(ctx, kind or "default", EVENT_WORDS[window.rule.start], EVENT_WORDS[window.event])
        if line is not None and line.kind is ProductKind.DIGITAL:
            _digital(ctx, item, line)


def _exclusions(ctx: Context, item: Item, line: Line) -> None:
    ex = ctx.sections.exclusions
    name = item_name(line.title)  # cheap, and most lines need it for some message
    found: list[tuple[str, str, str, str]] = []
    if ex.gift_cards and line.kind is ProductKind.GIFT_CARD:
        found.append(
            ("exclusion.gift_card", "gift card", f"{name} is a gift card, which we can't refund.", "gift_card")
        )
    if ex.final_sale and line.final_sale:
        found.append(("exclusion.final_sale", "marked final sale", f"{name} was sold as final sale.", "final_sale"))
    if ex.skus and ex.skus.match(line.sku):
        found.append(
            ("exclusion.sku", f"SKU {line.sku} is excluded", f"{name} can't be returned for a refund.", "exclusion")
        )
    tag = next((t for t in line.tags if ex.tags.match(t)), None) if ex.tags and line.tags else None
    if tag is not None:
        found.append(
            ("exclusion.tag", f"tag {tag!r} is excluded", f"{name} can't be returned for a refund.", "exclusion")
        )
    if ex.kinds and line.kind.value in ex.kinds:
        found.append(
            ("exclusion.kind", f"{line.kind.value} products are excluded", f"{name} can't be refunded.", "exclusion")
        )
    alternatives = ctx.sections.alternatives
    for rule, why, message, category in found:
        # Consumer law still covers a final-sale item that arrived broken: a person decides.
        to_review = category != "gift_card" and (ex.effect == "review" or ctx.request.reason.value in ex.review_reasons)
        detail = f"{line_label(line.line_id, line.title)}: {why}"
        if to_review and ex.effect != "review":
            detail += f" (reason {ctx.request.reason.value}: sent to review)"
        item.findings.append(
            Finding(
                rule=rule,
                detail=detail,
                message=message,
                review=to_review,
                offerable=alternatives.offers(category),
            )
        )


def _window_finding(ctx: Context, item: Item, window: Window, kind: str) -> None:
    line = item.line
    detail = f"{line_label(item.line_id, line.title if line else '')}: {kind} {window.summary}; asked {ctx.asked_text}"
    name = item_name(line.title) if line else "this order"
    length = f"{window.rule.days}-day" if window.rule.days else "same-day"
    message = f"The {length} refund window for {name} ended on {window.last_day}."
    alt = ctx.sections.alternatives
    offerable = alt.offers("window")
    if offerable and alt.within_days is not None:
        offerable = ctx.asked_at < window.closes + timedelta(days=alt.within_days)
    item.findings.append(Finding(f"window.{kind}", detail, message, offerable=offerable))


def _digital(ctx: Context, item: Item, line: Line) -> None:
    rules = ctx.sections.digital
    usage = line.usage
    signs: list[str] = []
    unknown: list[str] = []  # the signals the policy reads that the store did not report
    checks = (
        ("downloads", rules.max_downloads is not None, None if usage is None else usage.downloads),
        ("activations", rules.activations, None if usage is None else usage.activations),
        ("accessed", rules.accessed, None if usage is None else usage.accessed),
    )
    for signal, wanted, value in checks:
        if not wanted:
            continue
        if value is None:
            unknown.append(signal)
        elif signal == "downloads" and rules.max_downloads is not None and value > rules.max_downloads:
            signs.append(f"downloaded {value} time(s), more than {rules.max_downloads}")
        elif signal == "activations" and value > 0:
            signs.append(f"licence activated {value} time(s)")
        elif signal == "accessed" and value is True:
            signs.append("streamed or accessed")
    known = len(unknown) < sum(wanted for _, wanted, _ in checks)
    label = line_label(line.line_id, line.title)
    name = item_name(line.title)
    if signs:
        item.findings.append(
            Finding(
                rule="digital.used",
                detail=f"{label}: {', '.join(signs)}",
                message=f"{name} has already been downloaded or used.",
                review=rules.when_used == "review",
                offerable=ctx.sections.alternatives.offers("digital_used"),
            )
        )
        return
    usage_unknown(ctx, label, name, unknown)
    if not known and unknown and rules.when_unknown == "review":
        item.findings.append(
            Finding(
                "digital.unknown_usage",
                f"{label}: usage unknown",
                f"We could not check whether {name} was already downloaded or used, so a person will look.",
                review=True,
            )
        )
