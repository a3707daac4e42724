"""``reconcile``: one store's ledger against its gateways and its platform over a window, stored as
a report (``hub.ledger.reconcile``), the safe drift resolved by the hub — once:

- a gateway refund the ledger does not know, on a payment it knows, that succeeded: imported as a
  ``recorded`` refund (money moved; never executed);
- a refund the hub paid that the store does not show yet (``succeeded``, not written back): the
  existing write-back job queued (``outbox.ensure``).

Every other kind is reported with what a person should do. A repair is claimed in the same
transaction that makes it, so two runs (or two janitors) never repair one item twice; a drift that
outlives its repair is reported as ``already_repaired`` for a person.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from hub.contracts import Gateway, ListingFailed, Outcome, PaymentState, StoreContext
from hub.errors import HubError
from hub.ledger import outbox
from hub.ledger import reconcile as books
from hub.ledger.outbox import JobKind
from hub.ledger.reconcile import Drift
from hub.ledger.records import Payment
from hub.ledger.unit import read, write
from hub.reconcile import compare, sources
from hub.runtime.bootstrap import Hub

log = logging.getLogger(__name__)
ACTOR = "reconcile"


class UnknownStore(HubError):
    """No enabled store of that id for the connector."""


@dataclass(frozen=True)
class Report:
    run_id: str
    connector: str
    store_id: str
    since: datetime
    drifts: list[Drift]
    counts: Counter[str]
    errors: list[str]


def find_store(hub: Hub, store_id: str, connector: str | None = None) -> tuple[str, StoreContext]:
    """(connector name, store) of an enabled store; the connector may be left out when one has it."""
    found = [
        (name, store)
        for name in ([connector] if connector else sorted(hub.connectors))
        if name in hub.stores
        for store in [hub.stores[name].get(store_id)]
        if store is not None
    ]
    if len(found) != 1:
        which = "no" if not found else "more than one"
        raise UnknownStore(f"{which} enabled store {store_id!r}{f' on {connector}' if connector else ''}")
    return found[0]


def reconcile(
    hub: Hub, store_id: str, since: datetime, *, connector: str | None = None, now: datetime | None = None,
    sleep: Callable[[float], None] | None = None, by: str | None = None, by_id: str | None = None,
) -> Report:  # fmt: skip
    """``by``/``by_id``: the person who asked for the run in the console (stored with it)."""
    now = now or datetime.now(UTC)
    name, store = find_store(hub, store_id, connector)
    plugin = hub.connectors[name]
    with write(hub.engine) as conn:
        run_id = books.start_run(conn, "reconcile", name, store_id, since, by=by, by_id=by_id)
    drifts: list[Drift] = []
    links: list[compare.Link] = []
    errors: list[str] = []
    with read(hub.engine) as conn:
        rows = books.store_refunds(conn, name, store_id, since)
    touched: dict[str, list[Payment]] = {}
    for account in sources.gateway_accounts(hub, plugin, store):
        gateway = hub.gateways[account]
        try:
            listed = sources.listed(sources.gateway_listing(gateway, since), sleep=sleep)
        except (ListingFailed, HubError, OSError) as exc:
            errors.append(f"gateway:{account}: {exc}")
            continue
        if listed is None:
            errors.append(f"gateway:{account}: {gateway.name} cannot list refunds; not compared")
            continue
        with read(hub.engine) as conn:
            found = compare.compare_gateway(
                conn, account=account, connector=name, store_id=store_id, ledger_rows=rows, listed=listed,
                exclusive=sources.stores_on(hub, account) == 1, now=now,
            )  # fmt: skip
        drifts += found.drifts
        links += found.links
        touched[account] = found.payments
    try:
        records = sources.listed(sources.platform_listing(plugin, store, since), sleep=sleep)
    except (ListingFailed, HubError, OSError) as exc:
        errors.append(f"platform:{name}: {exc}")
        records = None
    else:
        if records is None:
            errors.append(f"platform:{name}: the connector cannot list refunds; not compared")
    if records is not None:
        with read(hub.engine) as conn:
            drifts += compare.compare_platform(
                conn, connector=name, store_id=store_id, ledger_rows=rows, listed=records, now=now
            )
    counts: Counter[str] = Counter()
    _link(hub, links, counts)
    drifts = [_repair(hub, run_id, name, store_id, drift, counts) for drift in drifts]
    # per payment after the repairs: a payment whose every refund is now known agrees again
    for account, paid in touched.items():
        with read(hub.engine) as conn:
            moved_in_ledger = {p.id: books.money_moved_on(conn, p.id) for p in paid}
        at_gateway = _state_at(hub.gateways[account], errors)
        drifts += compare.compare_payments(f"gateway:{account}", paid, moved_in_ledger, at_gateway)
    counts.update(drift.kind for drift in drifts)
    with write(hub.engine) as conn:
        books.add_items(conn, run_id, drifts)
        books.finish_run(conn, run_id, dict(counts), "; ".join(errors) or None)
    if counts["write_back_queued"]:
        hub.dispatcher.wake()
    return Report(run_id, name, store_id, since, drifts, counts, errors)


def _state_at(gateway: Gateway, errors: list[str]) -> Callable[[Payment], PaymentState | None]:
    def state(payment: Payment) -> PaymentState | None:
        try:
            return gateway.payment(payment.reference)
        except Exception as exc:  # noqa: BLE001 - one payment that cannot be read is noted, the rest compared
            errors.append(f"{payment.route} payment {payment.reference}: {exc}")
            return None

    return state


def _link(hub: Hub, links: list[compare.Link], counts: Counter[str]) -> None:
    """A platform record and its gateway refund named no id of each other: tie them (one refund)."""
    for link in links:
        with write(hub.engine) as conn:
            books.link_gateway_refund(conn, link.refund_id, link.gateway_refund_id, ACTOR)
        counts["linked"] += 1


def _repair(hub: Hub, run_id: str, connector: str, store_id: str, drift: Drift, counts: Counter[str]) -> Drift:
    if drift.kind == books.UNKNOWN_AT_LEDGER and drift.detail.get("payment_known"):
        if drift.detail.get("outcome") != Outcome.SUCCEEDED.value:
            return drift  # pending or failed at the gateway: nothing moved yet to record
        return _import(hub, run_id, connector, store_id, drift, counts)
    key = books.repair_key(drift)
    if key is not None and key[1] == books.WRITE_BACK and drift.ledger_state == "succeeded":
        with write(hub.engine) as conn:
            if not books.repair_once(conn, *key, run_id):
                counts[books.ALREADY_REPAIRED] += 1
                return replace(drift, resolution=books.ALREADY_REPAIRED, action=_AGAIN)
            outbox.ensure(conn, JobKind.WRITE_BACK, key[0])
        counts[books.WRITE_BACK_QUEUED] += 1
        return replace(drift, resolution=books.WRITE_BACK_QUEUED)
    return drift


_AGAIN = "repaired once already and still drifting: a person must look (the hub does not repair twice)"


def _import(hub: Hub, run_id: str, connector: str, store_id: str, drift: Drift, counts: Counter[str]) -> Drift:
    account = drift.source.removeprefix("gateway:")
    assert drift.outside_id
    assert drift.payment_reference
    assert drift.outside_amount is not None
    key = books.repair_key(drift)
    assert key is not None
    created = datetime.fromisoformat(str(drift.detail["created_at"]))
    with write(hub.engine) as conn:
        payment = books.payment_of(conn, store_id, drift.source, drift.payment_reference)
        if payment is None:
            return drift
        if not books.repair_once(conn, *key, run_id):
            counts[books.ALREADY_REPAIRED] += 1
            return replace(drift, resolution=books.ALREADY_REPAIRED, action=_AGAIN)
        refund_id, _ = books.import_outside_refund(
            conn, payment, connector=connector, account=account, gateway_refund_id=drift.outside_id,
            amount=drift.outside_amount, currency=drift.currency or payment.currency, created_at=created, actor=ACTOR,
        )  # fmt: skip
    counts[books.IMPORTED] += 1
    return replace(drift, resolution=books.IMPORTED, refund_id=refund_id)
