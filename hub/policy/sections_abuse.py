"""The ``[abuse]`` and ``[hard]`` sections: velocity, refund-to-order ratio, block and allow
lists, and the checks no policy can switch off."""

from __future__ import annotations

from hub.policy.config import Abuse, Hard, People, Ratio, Velocity
from hub.policy.errors import PolicyError
from hub.policy.history import normalize_email
from hub.policy.parsing import REVIEW_OR_DENY, closed, days_within
from hub.policy.schema import Table

IDENTITIES = ("customer", "email", "payment", "any")


def parse_people(table: Table, *, with_effect: bool) -> tuple[People, str]:
    emails: set[str] = set()
    domains: set[str] = set()
    for i, entry in enumerate(table.texts("emails")):
        if entry.startswith("@"):
            domains.add(entry[1:].strip().lower())
        elif "@" not in entry:
            raise PolicyError(f"{table.key('emails')}[{i}]", "must be an email address or '@domain'")
        else:
            emails.add(normalize_email(entry) or entry)
    people = People(
        emails=frozenset(emails),
        domains=frozenset(domains),
        customers=frozenset(table.texts("customers")),
        payments=frozenset(table.texts("payments")),
    )
    effect = table.text("effect", "deny", choices=REVIEW_OR_DENY) if with_effect else ""
    table.finish()
    return people, effect


def parse_abuse(table: Table, lookback: int) -> Abuse:
    velocity = []
    for t in table.tables("velocity"):
        if t.has("days") == t.has("hours"):
            raise t.fail("days", "give either days or hours")
        if t.has("days"):
            amount, unit, seconds = days_within(t, "days", 1, lookback), "day", 86_400
        else:
            amount, unit, seconds = t.integer("hours", minimum=1), "hour", 3_600
            if amount > lookback * 24:
                raise t.fail("hours", f"must be <= history.lookback_days ({lookback}) in hours")
        velocity.append(
            Velocity(
                by=t.text("by", "customer", choices=IDENTITIES),
                max=t.integer("max", minimum=1),
                seconds=amount * seconds,
                label=f"{amount} {unit}{'s' if amount != 1 else ''}",
                effect=t.text("effect", "review", choices=REVIEW_OR_DENY),
            )
        )
        t.finish()
    ratio_table = table.table("ratio")
    ratio = None
    if ratio_table.data:
        ratio = Ratio(
            max=ratio_table.number("max"),
            min_orders=ratio_table.integer("min_orders", 3, minimum=1),
            effect=ratio_table.text("effect", "review", choices=REVIEW_OR_DENY),
        )
    ratio_table.finish()
    blocklist, blocklist_effect = parse_people(table.table("blocklist"), with_effect=True)
    allowlist, _ = parse_people(table.table("allowlist"), with_effect=False)
    for attr in ("emails", "domains", "customers", "payments"):
        both = getattr(blocklist, attr) & getattr(allowlist, attr)
        if both:
            raise PolicyError(f"abuse.allowlist.{attr}", f"{sorted(both)[0]!r} is also on the blocklist")
    table.finish()
    return Abuse(tuple(velocity), ratio, blocklist, blocklist_effect or "deny", allowlist)


def parse_hard(table: Table) -> Hard:
    return closed(
        table,
        lambda t: Hard(
            dispute=t.text("dispute", "deny", choices=REVIEW_OR_DENY),
            currency_mismatch=t.text("currency_mismatch", "review", choices=REVIEW_OR_DENY),
            over_refundable=t.text("over_refundable", "review", choices=REVIEW_OR_DENY),
        ),
    )
