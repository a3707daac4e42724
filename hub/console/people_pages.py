"""The people pages (owners: ``users:manage``) and everyone's own API tokens.

A secret (a new person's one-time password, a new token) is shown once, in the answer to the
form that made it, with ``Cache-Control: no-store``; it never goes through the session cookie
or a redirect, and the hub keeps only its hash."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for

from hub.console import team
from hub.console.pages import _not_found, _stores, _who, bp, page
from hub.people import roles
from hub.web.app import current_hub


def _store_keys(who: Any) -> list[tuple[str, str]]:
    return [(s.connector, s.store_id) for s in _stores(who)]


def _people_page(status: int = 200, **shown: Any) -> Any:
    who = _who()
    mine = _store_keys(who)
    chosen = request.args.get("store", "")
    listed = team.people_of(current_hub(), who, mine)
    if chosen:
        listed = [p for p in listed if any(f"{c}/{s}" == chosen for c, s in p.stores)]
    answer = make_response(
        render_template("console/people.html", people=listed, stores=mine, chosen=chosen, **shown), status
    )
    if shown:
        answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/people")
@page(roles.USERS)
def people() -> Any:
    return _people_page()


@bp.post("/people/add")
@page(roles.USERS)
def people_add() -> Any:
    who = _who()
    mine = _store_keys(who)
    wanted = request.form.getlist("stores")
    stores = [key for key in mine if f"{key[0]}/{key[1]}" in wanted]
    if len(stores) != len(set(wanted)):
        return _not_found("store " + ", ".join(sorted(set(wanted) - {f"{c}/{s}" for c, s in stores})))
    try:
        added = team.add(
            current_hub(),
            who,
            request.form.get("email", ""),
            request.form.get("name", ""),
            request.form.get("role", ""),
            stores,
        )
    except (team.TeamError, ValueError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.people"))
    if added.password is None:
        flash(
            f"{added.user.email} has an account already: they now also work on the stores you chose "
            f"(their role stays {added.user.role}).",
            "success",
        )
        return redirect(url_for("console.people"))
    return _people_page(201, added=added)


def _change(user_id: str, action: Any, done: str) -> Any:
    try:
        user = action()
    except LookupError:
        return _not_found("person " + user_id)
    except team.TeamError as exc:
        flash(str(exc), "error")
    else:
        flash(done.format(email=user.email), "success")
    return redirect(url_for("console.people"))


def _visible_person(user_id: str) -> bool:
    who = _who()
    return any(p.user.id == user_id for p in team.people_of(current_hub(), who, _store_keys(who)))


@bp.post("/people/<user_id>/role")
@page(roles.USERS)
def people_role(user_id: str) -> Any:
    if not _visible_person(user_id):
        return _not_found("person " + user_id)
    role = request.form.get("role", "")
    return _change(
        user_id, lambda: team.change_role(current_hub(), _who(), user_id, role), "{email} is " + role + " now."
    )


@bp.post("/people/<user_id>/<any('disable','enable'):how>")
@page(roles.USERS)
def people_active(user_id: str, how: str) -> Any:
    if not _visible_person(user_id):
        return _not_found("person " + user_id)
    active = how == "enable"
    done = "{email} can sign in again." if active else "{email} is disabled: signed out, their tokens refused."
    return _change(user_id, lambda: team.set_active(current_hub(), _who(), user_id, active), done)


# --- one's own API tokens ------------------------------------------------------------------------


def _tokens_page(status: int = 200, new_token: str | None = None) -> Any:
    who = _who()
    answer = make_response(
        render_template(
            "console/tokens.html",
            tokens=team.my_tokens(current_hub(), who),
            scopes=sorted(who.scopes),
            new_token=new_token,
        ),
        status,
    )
    if new_token:
        answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/account/tokens")
@page(roles.READ)
def tokens() -> Any:
    return _tokens_page()


@bp.post("/account/tokens")
@page(roles.READ)
def tokens_create() -> Any:
    try:
        token = team.issue_token(current_hub(), _who(), request.form.get("name", ""), request.form.getlist("scopes"))
    except team.TeamError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.tokens"))
    return _tokens_page(201, token)


@bp.post("/account/tokens/<token_id>/revoke")
@page(roles.READ)
def tokens_revoke(token_id: str) -> Any:
    try:
        team.revoke_token(current_hub(), _who(), token_id)
    except LookupError:
        return _not_found("token " + token_id)
    except team.TeamError as exc:
        flash(str(exc), "error")
    else:
        flash("Revoked: the token is refused from now on.", "success")
    return redirect(url_for("console.tokens"))
