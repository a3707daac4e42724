"""A person's own account: change the password (an invited person signs in with the one-time
password an owner was shown, and makes it their own here). Every other session of theirs ends;
the one that changed it stays signed in."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for

from hub.console.pages import _who, bp, page
from hub.people import roles
from hub.people.accounts import LoginRefused
from hub.web.app import current_hub


@bp.route("/account/password", methods=["GET", "POST"])
@page(roles.READ)
def account_password() -> Any:
    who = _who()
    if who.user_id is None:  # the operator token or a platform's staff: no password of ours
        return render_template("console/account_password.html", error="This sign-in has no password here."), 400
    if request.method == "GET":
        return render_template("console/account_password.html", error=None)
    new, again = request.form.get("new", ""), request.form.get("again", "")
    if new != again:
        return render_template("console/account_password.html", error="The two new passwords differ."), 400
    try:
        epoch = current_hub().accounts.change_password(who.user_id, request.form.get("current", ""), new)
    except (LoginRefused, ValueError) as refused:
        return render_template("console/account_password.html", error=str(refused).capitalize() + "."), 400
    session["epoch"] = epoch  # this session continues; every other one has ended
    flash("Your password is changed. Your other sessions are signed out.", "success")
    return redirect(url_for("console.queue"))
