"""Tell the store what happened, without moving money again (invariants 5 and 11, docs/architecture.md).

Gateway-routed refunds are written back through ``Connector.record`` with the hub refund id in
the platform record, so the platform's echo is matched. A platform-routed refund is already
recorded by the platform itself; its echo confirms it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from hub.contracts import Outcome, WriteBack
from hub.ledger import audit, claims, states, tenders
from hub.ledger import refunds as ledger
from hub.ledger.outbox import JobRun
from hub.ledger.records import Refund
from hub.ledger.unit import Unit, read, write
from hub.models import Line, RefundRequest
from hub.models.money import format_decimal
from hub.pipeline.routing import NONE, PLATFORM, gateway_account
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)


class WriteBackFailed(Exception):
    """The platform did not take the record; the job retries it (the money has moved already)."""


def write_back(
    hub: Hub,
    refund_id: str,
    *,
    row: Refund | None = None,
    claimed: bool = False,
    job: JobRun | None = None,
    request: RefundRequest | None = None,
) -> str | None:
    """Record a succeeded refund on the store, once (invariant 11); returns its state afterwards
    (None: no such refund).

    The write-back is claimed first (one owner under a lease): two workers — the executor and a
    status event's job, or two janitors — never call the platform for the same refund together.
    ``claimed``: the caller took the claim already (the executor, in the transaction that recorded
    the success). ``row``: the refund as the caller just wrote it and ``request`` its parsed request
    (each saves work); ``job``: finished in the same transaction as the ``written_back`` transition."""
    if row is None:
        with read(hub.engine) as conn:
            row = ledger.get(conn, refund_id)
    if row is not None and row.parent_id and not (row.state == states.SUCCEEDED and row.route in (PLATFORM, NONE)):
        return _roll_up(hub, row, job)  # a part the hub paid out is recorded with its refund's other parts
    if row is None or row.state != states.SUCCEEDED:
        return _roll_up(hub, row, job) if row is not None and row.route == tenders.SPLIT_ROUTE else _state(row)
    if row.route in (PLATFORM, NONE):  # the platform recorded it itself; its echo confirms it
        _written_back(hub, refund_id, row.gateway_refund_id, job, by=row.route, parent_id=row.parent_id)
        return states.WRITTEN_BACK
    if not claimed:
        with write(hub.engine) as conn:
            row = claims.claim_write_back(conn, refund_id, timedelta(seconds=hub.config.hub.lease_seconds))
        if row is None:  # another worker holds it (or finished it): not ours to write
            return states.SUCCEEDED
    with read(hub.engine) as conn:
        if row.route == tenders.SPLIT_ROUTE:
            writeback, paid_out = split_writeback(conn, row)
        else:
            writeback, paid_out = _writeback_of(row, request, decision_of(conn, row)), []
    if writeback is None:  # every part was the platform's own refund: each recorded itself
        with write(hub.engine) as conn:
            claims.release_write_back(conn, refund_id)
        return _roll_up(hub, row, job)
    store = hub.stores[row.connector].get(row.store_id)
    if store is None:
        _give_back(hub, refund_id, "store is disabled")
        raise WriteBackFailed(f"store {row.store_id} is disabled; refund {refund_id} not written back")
    try:
        result = hub.connectors[row.connector].record(store, writeback)
    except Exception as exc:  # noqa: BLE001 - any refusal of the store is retried by the job
        _give_back(hub, refund_id, str(exc))
        raise WriteBackFailed(str(exc)) from exc
    if paid_out:
        return _parts_written_back(hub, row, paid_out, result.reference, job)
    _written_back(hub, refund_id, result.reference, job, parent_id=row.parent_id)
    return states.WRITTEN_BACK


def _state(row: Refund | None) -> str | None:
    return row.state if row is not None else None


def decided_lines(
    request: RefundRequest, decision: Mapping[str, Any] | None
) -> tuple[tuple[Line, ...], dict[str, int]]:
    """The request's lines as the policy decided them, and what goes back for each: a line it gave
    nothing back for was not refunded, so no platform is told it was (a Magento memo listing it
    with a negative adjustment would say it was). No per-line decision: every line, in full."""
    decided = {str(i): int(a) for i, a in ((decision or {}).get("decision") or {}).get("line_amounts") or ()}
    if not decided:
        return request.lines, {}
    lines = tuple(line for line in request.lines if decided.get(line.line_id, line.total) > 0)
    return lines, {line.line_id: decided[line.line_id] for line in lines if line.line_id in decided}


def decision_of(conn: Unit, row: Refund) -> Mapping[str, Any] | None:
    """The policy's decision a refund was made under: a part's is its refund's."""
    if not row.parent_id:
        return row.decision
    parent = ledger.get(conn, row.parent_id)
    return parent.decision if parent is not None else None


def _writeback_of(row: Refund, request: RefundRequest | None, decision: Mapping[str, Any] | None) -> WriteBack:
    """What the store is told: the refund as made — only the lines it refunded — with the hub
    refund id it is matched by."""
    request = request or RefundRequest.model_validate(row.request)
    lines, line_amounts = decided_lines(request, decision)
    account = gateway_account(row.route or "")
    return WriteBack(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        amount=row.approved_amount or row.amount,
        currency=row.currency,
        outcome=Outcome.SUCCEEDED,
        route=row.route or "",
        gateway=account,
        gateway_refund_id=row.gateway_refund_id,
        lines=lines,
        shipping=request.shipping,
        note=f"Refunded by Refund Hub ({row.id}) through {account}",
        line_amounts=line_amounts,
    )


def split_writeback(conn: Unit, row: Refund) -> tuple[WriteBack | None, list[Refund]]:
    """One record of what the hub paid out across a split refund's tenders, and those parts.

    The gateway parts are told to the store together, as one refund (a Magento memo, a WooCommerce
    refund record, a Shopify record), listing each part; the lines go with them unless a platform
    part (which the platform recorded itself) carried them. None when no part was paid out here."""
    parts = tenders.live_parts(conn, row.id)
    paid_out = [p for p in parts if p.state == states.SUCCEEDED and p.route not in (PLATFORM, NONE)]
    if not paid_out:
        return None, []
    request = RefundRequest.model_validate(row.request)
    carried = any(
        p.route in (PLATFORM, NONE) and p.state in states.SUCCESSES and (p.decision or {}).get("carries_lines")
        for p in parts
    )
    lines, line_amounts = ((), {}) if carried else decided_lines(request, row.decision)
    accounts = [gateway_account(p.route or "") or p.route or "" for p in paid_out]
    each = "; ".join(
        f"{format_decimal(p.approved_amount or 0, row.currency)} via {a}"
        for p, a in zip(paid_out, accounts, strict=True)
    )
    routes = {p.route or "" for p in paid_out}
    writeback = WriteBack(
        hub_refund_id=row.id,
        order_id=row.order_id,
        source_ref=row.source_ref,
        amount=sum(p.approved_amount or 0 for p in paid_out),
        currency=row.currency,
        outcome=Outcome.SUCCEEDED,
        route=routes.pop() if len(routes) == 1 else tenders.SPLIT_ROUTE,
        gateway=", ".join(dict.fromkeys(accounts)),
        gateway_refund_id=", ".join(p.gateway_refund_id for p in paid_out if p.gateway_refund_id) or None,
        lines=lines,
        shipping=0 if carried else request.shipping,
        note=f"Refunded by Refund Hub ({row.id}): {each}",
        line_amounts=line_amounts,
    )
    return writeback, paid_out


def _parts_written_back(
    hub: Hub, row: Refund, paid_out: list[Refund], reference: str | None, job: JobRun | None
) -> str | None:
    """The parts the record covers are written back, and the refund follows them."""
    with write(hub.engine) as conn:
        for part in paid_out:
            ledger.transition(conn, part.id, states.WRITTEN_BACK, expect=states.SUCCEEDED, writeback_ref=reference)
        claims.release_write_back(conn, row.id)
        audit.write(
            conn, "worker", "parts_recorded", refund_id=row.id, reference=reference, parts=[p.id for p in paid_out]
        )
        state = tenders.roll_up(conn, row.id)
        if job is not None:
            job.finish(conn)
    return state


def _written_back(
    hub: Hub,
    refund_id: str,
    reference: str | None,
    job: JobRun | None,
    by: str | None = None,
    parent_id: str | None = None,
) -> None:
    """``succeeded → written_back`` (the claim released with it); ``job`` finishes in the same commit.
    A part (``parent_id``) brings its refund along."""
    with write(hub.engine) as conn:
        ledger.transition(
            conn,
            refund_id,
            states.WRITTEN_BACK,
            expect=states.SUCCEEDED,
            writeback_ref=reference,
            writeback_lease_until=None,
        )
        detail = {"by": by} if by else {"reference": reference}
        audit.write(conn, "worker", "written_back", refund_id=refund_id, **detail)
        if parent_id:
            tenders.roll_up(conn, parent_id)
        if job is not None:
            job.finish(conn)


def _roll_up(hub: Hub, row: Refund, job: JobRun | None) -> str | None:
    """A part's write-back, or a split refund's with nothing to record: bring the refund to where
    its parts stand (a part the hub paid out is recorded by its refund's own write-back)."""
    with write(hub.engine) as conn:
        state = tenders.roll_up(conn, row.parent_id or row.id)
        if job is not None:
            job.finish(conn)
    return state if row.parent_id is None else row.state


def _give_back(hub: Hub, refund_id: str, error: str) -> None:
    """The store did not take the record: audit it and release the claim for the retry."""
    with write(hub.engine) as conn:
        claims.release_write_back(conn, refund_id)
        audit.write(conn, "worker", "write_back_failed", refund_id=refund_id, error=error[:500])
