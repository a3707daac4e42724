"""Outgoing webhooks in the console: each endpoint of the person's stores with its state, and its
deliveries with every attempt (status, error, time taken); a delivery, or all since a time, sent
again. The same read models and ledger calls as ``/api/webhooks`` (``hub.web.subscriptions``).
Under ``/webhook-endpoints``: ``/webhooks/…`` is where platforms post, and never reaches Flask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from hub.console.pages import _not_found, _stores, _who, bp, page
from hub.ledger import subscriptions
from hub.ledger import webhook_deliveries as owed_to
from hub.ledger.subscriptions import Endpoint
from hub.ledger.unit import read, write
from hub.people import roles
from hub.web.app import current_hub


def _visible_stores() -> set[str] | None:
    """The store ids the person may see endpoints of; None: every store."""
    who = _who()
    if who.stores.everything:
        return None
    return {s.store_id for s in _stores(who)}


def _endpoint(endpoint_id: str) -> Endpoint | None:
    with read(current_hub().engine) as conn:
        found = subscriptions.endpoint(conn, endpoint_id)
    visible = _visible_stores()
    return found if found is not None and (visible is None or found.store_id in visible) else None


@bp.get("/webhook-endpoints")
@page(roles.DELIVERIES)
def webhooks() -> Any:
    visible = _visible_stores()
    with read(current_hub().engine) as conn:
        found = subscriptions.endpoints(conn, None if visible is None else sorted(visible))
        owed = {e.id: owed_to.owed(conn, e.id) for e in found}
    return render_template("console/webhooks.html", endpoints=found, owed=owed)


@bp.get("/webhook-endpoints/<endpoint_id>")
@page(roles.DELIVERIES)
def webhook(endpoint_id: str) -> Any:
    found = _endpoint(endpoint_id)
    if found is None:
        return _not_found("webhook endpoint " + endpoint_id)
    with read(current_hub().engine) as conn:
        sent = owed_to.deliveries(conn, endpoint_id, limit=100)
        owed = owed_to.owed(conn, endpoint_id)
    return render_template("console/webhook.html", endpoint=found, deliveries=sent, owed=owed)


@bp.post("/webhook-endpoints/<endpoint_id>/replay")
@page(roles.REPLAY)
def webhook_replay(endpoint_id: str) -> Any:
    """One delivery (``delivery``) or every one of the last ``hours`` hours, sent again."""
    if _endpoint(endpoint_id) is None:
        return _not_found("webhook endpoint " + endpoint_id)
    delivery, hours = request.form.get("delivery", ""), request.form.get("hours", "")
    with write(current_hub().engine) as conn:
        if delivery.isdigit():
            moved = owed_to.replay(conn, endpoint_id, delivery_id=int(delivery))
        elif hours.isdigit() and 0 < int(hours) <= 24 * 31:
            moved = owed_to.replay(conn, endpoint_id, since=datetime.now(UTC) - timedelta(hours=int(hours)))
        else:
            flash("Choose a delivery, or a number of hours from 1 to 744.", "error")
            return redirect(url_for("console.webhook", endpoint_id=endpoint_id))
    current_hub().dispatcher.wake()
    flash(f"{moved} deliver{'y' if moved == 1 else 'ies'} queued to be sent again.", "success")
    return redirect(url_for("console.webhook", endpoint_id=endpoint_id))
