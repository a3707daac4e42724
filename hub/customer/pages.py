"""The customer request page's routes (``/customer/…``): look an order up, pick what to return,
preview, submit, follow the status. Server-rendered with the console's stylesheet; every form is
CSRF-checked; every answer about an order needs its e-mail or a signed link."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from hub.customer import orders
from hub.customer.orders import BadChoice, Found, NotFound, TooMany
from hub.customer.status import NoSuchStatus, status_of
from hub.pipeline import links

bp = Blueprint("customer", __name__, url_prefix="/customer", template_folder="templates", static_folder="static")
NOT_FOUND = "We could not find an order with that number and e-mail address. Check both and try again."


def _hub() -> Any:
    from hub.web.app import current_hub

    return current_hub()


@bp.before_request
def _csrf() -> None:
    if request.method == "POST":
        from hub.console import csrf

        csrf.protect()


@bp.errorhandler(CSRFError)
def _expired_form(_: CSRFError) -> Response:
    return _problem(400, "This form has expired", "Go back, reload the page and try again.")


@bp.app_context_processor
def _console_helpers() -> dict[str, Any]:
    """``customer_side(refund_id)`` for the console's refund page (its customer card)."""
    from hub.customer.console import customer_side

    return {"customer_side": lambda refund_id: customer_side(_hub(), refund_id)}


@bp.after_request
def _private(response: Response) -> Response:
    """Pages about someone's order are never cached, framed or leaked through the referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _store_name(store: Any) -> str:
    return str(store.settings.get("store_name") or "the shop")


@bp.route("/<connector>/request", methods=["GET", "POST"])
def lookup(connector: str) -> Any:
    hub = _hub()
    store_id = request.args.get("store", "")
    try:
        _, store = orders.store_of(hub, connector, store_id)
    except (NotFound, KeyError):
        return _problem(404, "This page does not exist", "The link you followed is not a shop's refund page.")
    error, status = None, 200
    if request.method == "POST":
        number, email = request.form.get("number", "")[:64], request.form.get("email", "")[:254]
        try:
            found = orders.lookup(hub, connector, store_id, number, email, request.remote_addr or "-")
            return redirect(url_for("customer.order", token=found.token), code=303)
        except TooMany:
            error, status = "Too many attempts. Please wait an hour and try again.", 429
        except NotFound:
            error = NOT_FOUND
    page = render_template(
        "customer/lookup.html", store_name=_store_name(store), error=error, number=request.form.get("number", "")
    )
    return page, status


@bp.get("/order/<token>")
def order(token: str) -> Any:
    found = _found(token)
    return _order_page(found)


@bp.post("/order/<token>/preview")
def preview(token: str) -> Any:
    found = _found(token)
    picked, reason, text = _picked(found), request.form.get("reason", ""), request.form.get("reason_text", "")
    try:
        asked = orders.choose(found, picked, reason, text)
    except BadChoice as exc:
        return _order_page(found, error=str(exc), picked=picked, reason=reason, text=text), 422
    verdict = orders.preview(_hub(), found, asked)
    return _order_page(found, picked=picked, reason=reason, text=text, verdict=verdict, nonce=orders.new_nonce())


@bp.post("/order/<token>/submit")
def submit(token: str) -> Any:
    hub = _hub()
    found = _found(token)
    picked, reason, text = _picked(found), request.form.get("reason", ""), request.form.get("reason_text", "")
    try:
        asked = orders.choose(found, picked, reason, text)
        refund_id = orders.submit(hub, found, asked, request.form.get("nonce", ""))
    except BadChoice as exc:
        return _order_page(found, error=str(exc), picked=picked, reason=reason, text=text), 422
    status_token = links.sign(hub, "status", found.connector, found.store.id, refund_id)
    return redirect(url_for("customer.status", token=status_token), code=303)


@bp.get("/status/<token>")
def status(token: str) -> Any:
    hub = _hub()
    try:
        seen = status_of(hub, token)
    except NoSuchStatus:
        return _problem(404, "This link does not work", "It may have expired. Ask the shop for a new one.")
    directory = hub.stores.get(seen.refund.connector)
    store = directory.get(seen.refund.store_id) if directory is not None else None
    return render_template("customer/status.html", s=seen, token=token, store_name=_store_name(store) if store else "")


def _found(token: str) -> Found:
    try:
        return orders.by_link(_hub(), token)
    except NotFound:
        abort(_problem(404, "This link does not work", "It may have expired. Look your order up again."))


def _picked(found: Found) -> dict[str, int]:
    picked = {}
    for line in found.order.lines:
        raw = request.form.get(f"qty-{line.line_id}", "0")
        picked[line.line_id] = int(raw) if raw.isdigit() else -1
    return picked


def _order_page(found: Found, **values: Any) -> str:
    values.setdefault("picked", {})
    return render_template(
        "customer/order.html",
        store_name=_store_name(found.store),
        token=found.token,
        order=orders.order_summary(found),
        reasons=orders.REASONS,
        **values,
    )


def _problem(status_code: int, title: str, detail: str) -> Response:
    page = render_template("customer/problem.html", title=title, detail=detail, store_name="")
    return Response(page, status=status_code, mimetype="text/html")


@bp.post("/status/<token>/accept")
def accept(token: str) -> Any:
    from hub.pipeline.alternatives import CannotAccept
    from hub.pipeline.alternatives import accept as take_alternative

    hub = _hub()
    try:
        seen = status_of(hub, token)
        take_alternative(hub, seen.refund.id, "customer")
    except NoSuchStatus:
        return _problem(404, "This link does not work", "It may have expired. Ask the shop for a new one.")
    except CannotAccept:
        return _problem(409, "Nothing to accept", "This refund has no alternative on offer any more.")
    return redirect(url_for("customer.status", token=token), code=303)


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def feedback(token: str) -> Any:
    from hub.customer.status import refund_of_link
    from hub.pipeline.feedback import record

    hub = _hub()
    try:
        row = refund_of_link(hub, "feedback", token)
    except NoSuchStatus:
        return _problem(404, "This link does not work", "It may have expired.")
    directory = hub.stores.get(row.connector)
    store = directory.get(row.store_id) if directory is not None else None
    values: dict[str, Any] = {"store_name": _store_name(store) if store else "", "row": row, "reasons": orders.REASONS}
    if request.method == "POST":
        rating = request.form.get("rating", "")
        reason = request.form.get("reason") or None
        try:
            record(hub, row.id, int(rating) if rating.isdigit() else 0, request.form.get("comment", ""), reason)
        except ValueError:
            return render_template("customer/feedback.html", error="Please pick a rating from 1 to 5.", **values), 422
        return render_template("customer/feedback.html", thanked=True, **values)
    return render_template("customer/feedback.html", **values)
