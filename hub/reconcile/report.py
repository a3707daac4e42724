"""A reconciliation report as a person reads it (lines) and as finance loads it (CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from hub.ledger.exports import FORMULA_STARTS
from hub.ledger.reconcile import Drift

COLUMNS = ("kind", "source", "refund_id", "payment_reference", "outside_id", "currency", "ledger_amount",
           "outside_amount", "ledger_state", "outside_state", "resolution", "action")  # fmt: skip


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula (a store's record id or a note starting with
    ``=``) gets a leading apostrophe, as the refund export does; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def drift_csv(drifts: Iterable[Drift]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for drift in drifts:
        writer.writerow(["" if getattr(drift, name) is None else safe_cell(getattr(drift, name)) for name in COLUMNS])
    yield buffer.getvalue()


def drift_lines(drifts: Sequence[Drift]) -> Iterator[str]:
    if not drifts:
        yield "no drift: the ledger, the gateways and the store agree"
        return
    for drift in drifts:
        names = [f"{label} {value}" for label, value in (("refund", drift.refund_id), ("payment",
                 drift.payment_reference), ("outside", drift.outside_id)) if value]  # fmt: skip
        amounts = f" ledger {drift.ledger_amount} / outside {drift.outside_amount} {drift.currency or ''}".rstrip()
        done = f" [{drift.resolution}]" if drift.resolution else ""
        yield f"{drift.kind} ({drift.source}) {' '.join(names)}{amounts}{done}"
        yield f"    → {drift.action}"
