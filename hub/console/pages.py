"""The console's pages. Every read goes through ``hub.ledger.views`` with the principal's store
scope (another tenant's refund is a 404 page, as if absent); every action goes through the same
pipeline call as the JSON API and records ``principal.actor``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from hub.console import format as fmt
from hub.errors import LedgerError
from hub.ledger import notes, states, views
from hub.ledger.unit import read, write
from hub.models.money import CurrencyError, normalize_currency, to_minor
from hub.people import roles
from hub.people.accounts import LoginRefused, Principal
from hub.web.app import current_hub
from hub.web.auth import principal
from hub.web.bodies import BadRequest
from hub.web.paging import cursor_arg, cursor_of

bp = Blueprint(
    "console",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
PAGE = 50
F = TypeVar("F", bound=Callable[..., Any])
FILTER_STATES = tuple(fmt.STATE_WORDS)


@bp.app_template_global("may")
def _may(scope: str) -> bool:
    who = principal(current_hub())
    return who is not None and who.may(scope)


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"who": principal(current_hub()), "fmt": fmt, "roles": roles, "now": datetime.now(UTC)}


def page(scope: str) -> Callable[[F], F]:
    """A console page: to ``/login`` without a session, a 403 page without ``scope``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = principal(current_hub())
            if who is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if not who.may(scope):
                return _problem(403, "Not allowed", f"Your role ({who.role}) does not include {scope}.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _who() -> Principal:
    found = principal(current_hub())
    assert found is not None  # ``page`` let the request through
    return found


def _problem(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("console/problem.html", title=title, message=message, status=status), status


def _not_found(what: str) -> tuple[str, int]:
    return _problem(404, "Not found", f"There is no {what} here, or it belongs to a store you cannot see.")


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[str, int]:
    """A hand-edited link (a cursor this hub never gave out): the page says what is wrong with it."""
    return _problem(400, "This link does not work", exc.message)


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> tuple[str, int]:
    return _problem(400, "The form expired", "Reload the page and try again. (" + str(exc.description) + ")")


# --- sign in / out --------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no ``//host``, no scheme): an open redirect otherwise."""
    if not target:
        return url_for("console.queue")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("console.queue")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    hub = current_hub()
    if request.method == "GET":
        if principal(hub) is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("console/login.html", email="", needs_code=False, error=None)
    email = request.form.get("email", "").strip()
    try:
        user = hub.accounts.login(
            email,
            request.form.get("password", ""),
            request.form.get("code", "").strip() or None,
            request.remote_addr or "unknown",
        )
    except LoginRefused as refused:
        return render_template(
            "console/login.html", email=email, needs_code=refused.needs_code, error=str(refused)
        ), 401
    session.clear()  # a new session: nothing from before the login survives (fixation)
    session["uid"] = user.id
    session["epoch"] = user.session_epoch
    session.permanent = True
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("console.login"))


@bp.get("/")
def home() -> Any:
    return redirect(url_for("console.queue"))


# --- the review queue -----------------------------------------------------------------------


def _stores(who: Principal) -> list[views.StoreSummary]:
    with read(current_hub().engine) as conn:
        return views.store_list(conn, who.stores)


@bp.get("/queue")
@page(roles.READ)
def queue() -> str:
    who = _who()
    store = request.args.get("store") or None
    with read(current_hub().engine) as conn:
        items = views.review_queue(conn, who.stores, store, PAGE + 1, cursor_arg(request, "after"))
    more = len(items) > PAGE
    items = items[:PAGE]
    after = cursor_of(items[-1].refund.created_at, items[-1].refund.id) if more else None
    return render_template("console/queue.html", items=items, stores=_stores(who), store=store, after=after)


# --- refunds --------------------------------------------------------------------------------


class FilterError(ValueError):
    pass


def _day(raw: str | None, *, end: bool = False) -> datetime | None:
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise FilterError(f"{raw!r} is not a date (YYYY-MM-DD)") from exc
    return day + timedelta(days=1) if end else day


def _amount(raw: str | None, currency: str | None) -> int | None:
    if not raw:
        return None
    if not currency:
        raise FilterError("choose a currency to filter by amount")
    try:
        return to_minor(raw.replace(",", "").strip(), currency)
    except (CurrencyError, ArithmeticError, ValueError) as exc:
        raise FilterError(f"{raw!r} is not an amount in {currency}") from exc


@bp.get("/refunds")
@page(roles.READ)
def refunds() -> str:
    who = _who()
    args = request.args
    error = None
    rows: list[Any] = []
    after = None
    try:
        currency = normalize_currency(args["currency"]) if args.get("currency") else None
        created_from, created_before = _day(args.get("from")), _day(args.get("to"), end=True)
        amount_min, amount_max = _amount(args.get("min"), currency), _amount(args.get("max"), currency)
        with read(current_hub().engine) as conn:
            rows = views.refund_search(
                conn,
                who.stores,
                store_id=args.get("store") or None,
                state=args.get("state") if args.get("state") in FILTER_STATES else None,
                created_from=created_from,
                created_before=created_before,
                currency=currency,
                amount_min=amount_min,
                amount_max=amount_max,
                limit=PAGE + 1,
                cursor=cursor_arg(request, "after"),
            )
    except (FilterError, CurrencyError) as exc:
        error = str(exc)
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        after = cursor_of(rows[-1].created_at, rows[-1].id)
    keep = {k: v for k, v in args.items() if k != "after" and v}
    return render_template(
        "console/refunds.html",
        rows=rows,
        stores=_stores(who),
        args=args,
        keep=keep,
        after=after,
        error=error,
        states=FILTER_STATES,
    )


@bp.get("/refunds/<refund_id>")
@page(roles.READ)
def refund(refund_id: str) -> Any:
    who = _who()
    with read(current_hub().engine) as conn:
        found = views.refund_page(conn, refund_id, who.stores)
    if found is None:
        return _not_found("refund " + refund_id)
    row = found.refund
    lines = list((row.request or {}).get("lines") or ())
    decision = (row.decision or {}).get("decision") or {}
    waiting = row.state in (states.REVIEW, states.OFFERED)
    return render_template(
        "console/refund.html",
        page=found,
        r=row,
        lines=lines,
        decision=decision,
        reasons=fmt.reasons(row.decision),
        reviewed=(row.decision or {}).get("reviewed"),
        waiting=waiting,
        mine=row.assigned_to is not None and row.assigned_to == who.user_id,
    )


def _visible_refund(refund_id: str) -> bool:
    with read(current_hub().engine) as conn:
        return views.refund_with_trail(conn, refund_id, _who().stores) is not None


def _back(refund_id: str) -> Any:
    return redirect(url_for("console.refund", refund_id=refund_id))


@bp.post("/refunds/<refund_id>/decide")
@page(roles.REVIEW)
def decide(refund_id: str) -> Any:
    from hub.pipeline.review import review_decision

    who = _who()
    with read(current_hub().engine) as conn:
        found = views.refund_with_trail(conn, refund_id, who.stores)
    if found is None:
        return _not_found("refund " + refund_id)
    row = found[0]
    verdict = request.form.get("verdict")
    note = request.form.get("note", "").strip()[:2000]
    amount: int | None = None
    if verdict == "approve" and request.form.get("how") == "part":
        try:
            amount = to_minor(request.form.get("amount", "").replace(",", "").strip(), row.currency)
        except (CurrencyError, ArithmeticError, ValueError):
            flash(f"Enter the amount in {row.currency}, e.g. 12.50.", "error")
            return _back(refund_id)
        if amount <= 0 or amount > row.amount:
            flash(f"The amount must be above zero and at most {fmt.money(row.amount, row.currency)}.", "error")
            return _back(refund_id)
    if verdict == "deny" and not note:
        flash("Give the customer a reason for the denial.", "error")
        return _back(refund_id)
    if verdict not in ("approve", "deny"):
        flash("Choose approve or deny.", "error")
        return _back(refund_id)
    try:
        outcome = review_decision(
            current_hub(),
            refund_id,
            verdict == "approve",
            actor=who.actor,
            amount=amount,
            note=note,
            approver=who.user_id or who.actor,
        )
    except LookupError:
        return _not_found("refund " + refund_id)
    except (ValueError, LedgerError) as exc:  # maker-checker, not in review, over the balance, raced
        flash(str(exc), "error")
        return _back(refund_id)
    if outcome.awaiting_checker:
        flash("Your approval is recorded. A second approver must check it before the money moves.", "success")
    elif outcome.state == states.DENIED:
        flash("Denied. The customer is told your reason.", "success")
    else:
        flash("Approved. The refund is on its way to the gateway.", "success")
    return _back(refund_id)


@bp.post("/refunds/<refund_id>/alternative")
@page(roles.REVIEW)
def take_alternative(refund_id: str) -> Any:
    """The reviewer takes the alternative on offer for the customer: the same call as the
    customer's accept button, the CLI and the API (issued once, however often it is clicked)."""
    from hub.pipeline.alternatives import CannotAccept, accept

    if not _visible_refund(refund_id):
        return _not_found("refund " + refund_id)
    try:
        credit = accept(current_hub(), refund_id, _who().actor)
    except LookupError:
        return _not_found("refund " + refund_id)
    except CannotAccept:
        flash("This refund has no alternative on offer any more.", "error")
        return _back(refund_id)
    words = credit.kind.replace("_", " ")
    flash(f"{fmt.money(credit.amount, credit.currency)} as {words} for the customer: {credit.state}.", "success")
    return _back(refund_id)


@bp.post("/refunds/<refund_id>/note")
@page(roles.COMMENT)
def add_note(refund_id: str) -> Any:
    who = _who()
    if not _visible_refund(refund_id):
        return _not_found("refund " + refund_id)
    try:
        with write(current_hub().engine) as conn:
            notes.add_note(conn, refund_id, who.user_id or who.actor, who.actor, request.form.get("body", ""))
    except ValueError as exc:
        flash(str(exc), "error")
    else:
        flash("Note added.", "success")
    return _back(refund_id)


@bp.post("/refunds/<refund_id>/assign")
@page(roles.REVIEW)
def assign(refund_id: str) -> Any:
    who = _who()
    if not _visible_refund(refund_id):
        return _not_found("refund " + refund_id)
    to = None if request.form.get("release") else who.user_id
    with write(current_hub().engine) as conn:
        notes.assign(conn, refund_id, to, who.actor)
    flash("Assigned to you." if to else "Released.", "success")
    return _back(refund_id)


# --- dead letters and stores ----------------------------------------------------------------


@bp.get("/deliveries")
@page(roles.DELIVERIES)
def deliveries() -> str:
    with read(current_hub().engine) as conn:
        rows = views.delivery_list(conn, "dead", PAGE, _who().stores)
    return render_template("console/deliveries.html", rows=rows)


@bp.post("/deliveries/<delivery_id>/replay")
@page(roles.REPLAY)
def replay(delivery_id: str) -> Any:
    from hub.pipeline.deliveries import replay as requeue

    who = _who()
    with read(current_hub().engine) as conn:
        if not views.delivery_visible(conn, delivery_id, who.stores):
            return _not_found("delivery " + delivery_id)
    if requeue(current_hub(), delivery_id, who=who.actor):
        flash(f"Delivery {delivery_id} is queued again.", "success")
    else:
        flash(f"Delivery {delivery_id} is already queued.", "info")
    return redirect(url_for("console.deliveries"))


@bp.get("/stores")
@page(roles.STORES)
def stores() -> str:
    return render_template("console/stores.html", rows=_stores(_who()))
