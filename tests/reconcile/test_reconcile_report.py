"""A report's CSV as a spreadsheet opens it: a cell a vendor or a merchant wrote (a store's record
id, a note) that starts like a formula is text, not a formula; numbers stay numbers."""

from __future__ import annotations

import csv
import io

from hub.ledger import reconcile as books
from hub.reconcile.report import drift_csv, safe_cell


def test_formula_like_cells_are_written_as_text() -> None:
    drift = books.Drift(
        books.UNKNOWN_PLATFORM_RECORD, "platform:sandbox", "backfill imports it",
        outside_id='=HYPERLINK("http://evil.example","x")', payment_reference="+1-555", currency="USD",
        outside_amount=300,
    )  # fmt: skip
    [row] = csv.DictReader(io.StringIO("".join(drift_csv([drift]))))
    assert row["outside_id"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["payment_reference"] == "'+1-555"
    assert (row["outside_amount"], row["kind"]) == ("300", books.UNKNOWN_PLATFORM_RECORD)
    assert [safe_cell(v) for v in ("@SUM(A1)", "-2", "\tx", "sr-1", 42)] == ["'@SUM(A1)", "'-2", "'\tx", "sr-1", 42]
