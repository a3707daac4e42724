"""A reconciliation report as the console shows it: each drift item as a row of plain words, the
same cells on the page and in its CSV (the download is the table, not the store's raw columns —
those are ``/api/exports/reconcile/<run id>.csv``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.console import format as fmt
from hub.ledger import reconcile as books
from hub.ledger.reconcile import Drift, Repair, Run

KIND_WORDS = {
    books.UNKNOWN_AT_LEDGER: "Refund at the gateway the hub did not know",
    books.MISSING_AT_GATEWAY: "Refund in the hub the gateway does not list",
    books.AMOUNT_MISMATCH: "Amounts differ",
    books.STATE_MISMATCH: "Status differs",
    books.PAYMENT_TOTAL_MISMATCH: "Payment's refunded total differs",
    books.PLATFORM_RECORD_MISSING: "Store shows no record of the refund",
    books.PLATFORM_RECORD_DOUBLED: "Store shows the refund twice",
    books.UNKNOWN_PLATFORM_RECORD: "Store record the hub did not know",
}
COLUMNS = ("What was found", "Where", "Order", "Refund", "Payment", "Outside id", "In the hub", "Outside",
           "Status (hub / outside)", "Suggested action", "Repaired by the hub")  # fmt: skip
REFUND = COLUMNS.index("Refund")
SHORT = {"What was found": "Found", "Status (hub / outside)": "Status", "Suggested action": "Action",
         "Repaired by the hub": "Repaired"}  # fmt: skip  # the labels of a phone's stacked cells
CLIPPED = frozenset({"Refund", "Payment"})  # long ids: shortened on screen (whole on hover, in copies)
HUB_REPAIRS = (books.IMPORTED, books.WRITE_BACK_QUEUED)  # counts of a run: what the hub did itself


def kind_word(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())


def source_word(source: str) -> str:
    """``gateway:stripe-main`` is "Gateway stripe-main"; ``platform:shopify`` is "Store (shopify)"."""
    side, _, name = source.partition(":")
    return f"Gateway {name}" if side == "gateway" else f"Store ({name})"


@dataclass(frozen=True)
class Row:
    drift: Drift
    cells: tuple[str, ...]  # one per column, the text shown and downloaded
    refund_link: bool  # the ledger holds the refund and the person may open it


@dataclass(frozen=True)
class Known:
    """What the ledger says beside a report's items."""

    refunds: Mapping[str, str]  # refund id -> its order, of the refunds the person may open
    payments: Mapping[str, str]  # payment reference -> the order it paid
    repairs: Mapping[tuple[str, str], Repair]  # when each repair was made, and by which run


def rows(drifts: Iterable[Drift], known: Known) -> list[Row]:
    return [_row(d, known) for d in drifts]


def _row(drift: Drift, known: Known) -> Row:
    currency = drift.currency or ""
    order = (
        known.refunds.get(drift.refund_id or "")
        or drift.detail.get("order_id")
        or known.payments.get(drift.payment_reference or "")
        or ""
    )
    cells = (
        kind_word(drift.kind),
        source_word(drift.source),
        str(order),
        drift.refund_id or "",
        drift.payment_reference or "",
        ", ".join((drift.outside_id or "").split(",")),  # a doubled record's ids, each its own
        _money(drift.ledger_amount, currency),
        _money(drift.outside_amount, currency),
        _states(drift),
        drift.action[:1].upper() + drift.action[1:],
        _repaired(drift, known.repairs),
    )
    return Row(drift, cells, bool(drift.refund_id and drift.refund_id in known.refunds))


def _money(minor: int | None, currency: str) -> str:
    return "" if minor is None else fmt.money(minor, currency)


def _states(drift: Drift) -> str:
    if not (drift.ledger_state or drift.outside_state):
        return ""
    hub = fmt.state_word(drift.ledger_state) if drift.ledger_state else "—"
    return f"{hub} / {drift.outside_state or '—'}"


def _repaired(drift: Drift, repairs: Mapping[tuple[str, str], Repair]) -> str:
    key = books.repair_key(drift)
    made = repairs.get(key) if key is not None else None
    at = f", {fmt.when(made.at)}" if made is not None else ""
    if drift.resolution == books.IMPORTED:
        return f"Yes: imported as a recorded refund{at}"
    if drift.resolution == books.WRITE_BACK_QUEUED:
        return f"Yes: write-back to the store queued{at}"
    if drift.resolution == books.ALREADY_REPAIRED:
        return f"Repaired once already{at}; still drifting: needs a person"
    if drift.kind == books.UNKNOWN_AT_LEDGER and drift.detail.get("payment_known"):
        return "Not yet: imported once the gateway says it succeeded"
    return "No: for you to settle"


def repair_keys(drifts: Iterable[Drift]) -> set[tuple[str, str]]:
    return {key for d in drifts if d.resolution for key in [books.repair_key(d)] if key is not None}


# --- a run in the list ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    run: Run
    found: list[tuple[str, int]]  # (kind, items) in the order of ``books.KINDS``
    repaired: int  # what the hub resolved itself in this run
    left: int  # items left for a person


def summary(run: Run) -> RunSummary:
    found = [(kind, run.counts[kind]) for kind in books.KINDS if run.counts.get(kind)]
    repaired = sum(run.counts.get(key, 0) for key in HUB_REPAIRS)
    return RunSummary(run, found, repaired, sum(n for _, n in found) - repaired)
