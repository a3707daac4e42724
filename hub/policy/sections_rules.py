"""The ``[alternatives]`` section and the merchant's own CEL ``[[rules]]``."""

from __future__ import annotations

import re

from hub.policy import cel
from hub.policy.config import Alternatives, CustomRule
from hub.policy.parsing import unique
from hub.policy.schema import Table

OFFERABLE = ("window", "final_sale", "exclusion", "gift_card", "digital_used")
CUSTOM_EFFECTS = ("approve", "deny", "review", "offer_alternative", "info")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def parse_alternatives(table: Table) -> Alternatives:
    offer = table.text("offer", None, choices=("store_credit", "exchange"))
    instead_of = frozenset(table.texts("instead_of", ("window",), choices=OFFERABLE))
    within = table.optional_integer("within_days", None, minimum=1)
    table.finish()
    return Alternatives(offer=offer, instead_of=instead_of, within_days=within)


def rule_name(table: Table) -> str:
    """A name that becomes part of a rule id (``fee.restocking``, ``custom.vip``)."""
    name: str = table.text("name")
    if not _NAME.fullmatch(name):
        raise table.fail("name", "use letters, digits, '-', '_' or '.' (at most 64)")
    return name


def parse_rules(tables: list[Table], alternatives: Alternatives) -> tuple[CustomRule, ...]:
    rules = []
    for t in tables:
        name = rule_name(t)
        effect = t.text("effect", choices=CUSTOM_EFFECTS)
        if effect == "offer_alternative" and alternatives.offer is None:
            raise t.fail("effect", "offer_alternative needs alternatives.offer (store_credit or exchange)")
        when = t.text("when")
        program, used, names = cel.compile_rule(t.key("when"), name, when)
        cel.check_rule(t.key("when"), name, program)
        rules.append(
            CustomRule(
                name=name,
                when=when,
                effect=effect,
                message=t.text("message", ""),
                program=program,
                uses=used,
                names=names,
            )
        )
        t.finish()
    unique([rule.name for rule in rules], "rules", "name")
    return tuple(rules)
