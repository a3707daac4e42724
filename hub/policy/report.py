"""Render a ``SimulationReport`` for a terminal with rich (tables of transitions and money)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from hub.models.money import format_decimal
from hub.policy.simulate import SimulationReport


def _money(amounts: tuple[tuple[str, int], ...], currency: str) -> str:
    value = dict(amounts).get(currency, 0)
    sign = "+" if value > 0 else ""
    return f"{sign}{format_decimal(value, currency)}"


def render(report: SimulationReport) -> Group:
    parts: list[object] = [
        Text(
            f"Candidate {report.candidate_version}: {report.changed} of {report.total} decisions would change"
            + (f"; {report.errors} could not be replayed" if report.errors else ""),
            style="bold",
        )
    ]
    transitions = Table(title="Decisions: stored → candidate", show_lines=False)
    transitions.add_column("stored")
    transitions.add_column("candidate")
    transitions.add_column("count", justify="right")
    for old, new, count in report.transitions:
        style = "" if old == new else "yellow"
        transitions.add_row(old, new, str(count), style=style)
    parts.append(transitions)
    if report.money_delta:
        money = Table(title="Money back to original payments (candidate − stored)")
        for column in ("currency", "more", "less", "net"):
            money.add_column(column, justify="right" if column != "currency" else "left")
        for currency, _ in report.money_delta:
            money.add_row(
                currency,
                _money(report.money_more, currency),
                _money(report.money_less, currency),
                _money(report.money_delta, currency),
            )
        parts.append(money)
    if report.changed_ids:
        more = report.changed - len(report.changed_ids)
        suffix = f" (and {more} more)" if more > 0 else ""
        parts.append(Text(f"Changed refunds: {', '.join(report.changed_ids)}{suffix}"))
    return Group(*parts)  # type: ignore[arg-type]


def print_report(report: SimulationReport, console: Console | None = None) -> None:
    (console or Console()).print(render(report))
