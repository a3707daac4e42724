"""The policy pages: each store's live policy in words, its versions and what changed between
them, the editor (checked at the line, simulated on recent refunds), shadow and publish.

Reading needs ``policies:read``; anything that writes needs ``policies:write``. A store outside
the person's scope is a 404, as if absent. The steps themselves live in ``policy_flow``."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from hub.console import policy_flow as flow
from hub.console import policy_simulation as simulation
from hub.console.pages import _not_found, _stores, _who, bp, page
from hub.console.policy_diff import diff
from hub.console.policy_text import check
from hub.ledger import audit, policies
from hub.ledger.unit import read, write
from hub.people import roles
from hub.web.app import current_hub

DEFAULT_DAYS = 30
MAX_TEXT = 200_000  # characters: a policy is a page or two; a bigger body is a mistake


def _visible(connector: str, store_id: str) -> bool:
    return any(s.connector == connector and s.store_id == store_id for s in _stores(_who()))


def _here(connector: str, store_id: str) -> Any:
    return redirect(url_for("console.policy", connector=connector, store_id=store_id))


@bp.get("/policies")
@page(roles.POLICIES_READ)
def policy_list() -> str:
    hub = current_hub()
    rows = [flow.store_policy(hub, s.connector, s.store_id) for s in _stores(_who())]
    return render_template("console/policies.html", rows=rows)


@bp.get("/policies/<connector>/<store_id>")
@page(roles.POLICIES_READ)
def policy(connector: str, store_id: str) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    hub = current_hub()
    found = flow.store_policy(hub, connector, store_id)
    draft = found.draft
    shadow = proposal = None
    if draft is not None and draft.shadow_body is not None and draft.shadow_since is not None:
        candidate = policies.policy_of_text(draft.shadow_body)
        shadow = simulation.run(hub, connector, store_id, candidate, draft.shadow_since)
    if draft is not None and draft.proposed_body is not None:
        proposal = diff(
            _live_text(found), draft.proposed_body, found.live, policies.policy_of_text(draft.proposed_body)
        )
    checked = check(draft.body) if draft is not None else None
    same = checked is not None and checked.policy is not None and checked.policy.version == found.live.version
    return render_template(
        "console/policy.html",
        p=found,
        shadow=shadow,
        proposal=proposal,
        live_text=_live_text(found),
        draft_check=checked,
        same_as_live=same,
    )


def _live_text(found: flow.StorePolicy) -> str:
    if found.live_version is not None:
        return found.live_version.body
    return flow.configured_text(current_hub(), found.connector, found.store_id)


@bp.route("/policies/<connector>/<store_id>/edit", methods=["GET", "POST"])
@page(roles.POLICIES_WRITE)
def policy_edit(connector: str, store_id: str) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    hub, who = current_hub(), _who()
    found = flow.store_policy(hub, connector, store_id)
    result = None
    days = _days(request.form.get("days") if request.method == "POST" else request.args.get("days"))
    if request.method == "POST":
        text = request.form.get("text", "").replace("\r\n", "\n")[:MAX_TEXT]
        flow.save_draft(hub, who, connector, store_id, text)
        checked = check(text)
        if request.form.get("do") == "simulate" and checked.policy is not None:
            result = simulation.last_days(hub, connector, store_id, checked.policy, days)
            with write(hub.engine) as conn:
                audit.write(
                    conn,
                    who.actor,
                    "policy_simulated",
                    connector=connector,
                    store_id=store_id,
                    label=checked.policy.version,
                    days=days,
                    total=result.total,
                    changed=result.changed,
                )
        found = flow.store_policy(hub, connector, store_id)
    else:
        text = found.draft.body if found.draft is not None else _live_text(found)
        checked = check(text)
    changes = diff(_live_text(found), text, found.live, checked.policy)
    return render_template(
        "console/policy_edit.html",
        p=found,
        text=text,
        checked=checked,
        result=result,
        days=days,
        changes=changes,
        saved=request.method == "POST",
    )


def _days(raw: str | None) -> int:
    try:
        return max(1, min(simulation.MAX_DAYS, int(raw or DEFAULT_DAYS)))
    except ValueError:
        return DEFAULT_DAYS


@bp.get("/policies/<connector>/<store_id>/versions/<int:number>")
@page(roles.POLICIES_READ)
def policy_version(connector: str, store_id: str, number: int) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    with read(current_hub().engine) as conn:
        shown = policies.version(conn, connector, store_id, number)
        before = policies.version(conn, connector, store_id, number - 1) if number > 1 else None
    if shown is None:
        return _not_found(f"version {number} of the policy of {store_id}")
    old_policy = policies.policy_of_text(before.body) if before is not None else None
    changes = diff(before.body if before else "", shown.body, old_policy, policies.policy_of_text(shown.body))
    return render_template(
        "console/policy_version.html",
        connector=connector,
        store_id=store_id,
        v=shown,
        before=before,
        changes=changes,
        policy=policies.policy_of_text(shown.body),
    )


@bp.post("/policies/<connector>/<store_id>/versions/<int:number>/restore")
@page(roles.POLICIES_WRITE)
def policy_restore(connector: str, store_id: str, number: int) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    with read(current_hub().engine) as conn:
        shown = policies.version(conn, connector, store_id, number)
    if shown is None:
        return _not_found(f"version {number} of the policy of {store_id}")
    flow.save_draft(current_hub(), _who(), connector, store_id, shown.body)
    flash(f"Version {number} is in the draft now: check it, simulate it, publish it.", "success")
    return redirect(url_for("console.policy_edit", connector=connector, store_id=store_id))


@bp.post("/policies/<connector>/<store_id>/load-configuration")
@page(roles.POLICIES_WRITE)
def policy_load_configuration(connector: str, store_id: str) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    hub = current_hub()
    flow.save_draft(hub, _who(), connector, store_id, flow.configured_text(hub, connector, store_id))
    flash("The configuration's policy is in the draft now.", "success")
    return redirect(url_for("console.policy_edit", connector=connector, store_id=store_id))


def _take(step: str, connector: str, store_id: str) -> str:
    """One of the small steps on a store's policy page; the flash message that says what happened."""
    hub, who = current_hub(), _who()
    if step == "shadow-start":
        flow.start_shadow(hub, who, connector, store_id)
        return "The draft runs in shadow: the live policy still decides, and the draft's disagreements show here."
    if step == "shadow-stop":
        flow.stop_shadow(hub, who, connector, store_id)
        return "Shadow stopped."
    if step == "withdraw":
        flow.withdraw(hub, who, connector, store_id)
        return "The proposal is withdrawn."
    version = flow.check_and_publish(hub, who, connector, store_id)
    return f"Checked and published as version {version.number}. New refunds are decided with it."


@bp.post("/policies/<connector>/<store_id>/<any('shadow-start','shadow-stop','withdraw','check'):step>")
@page(roles.POLICIES_WRITE)
def policy_step(connector: str, store_id: str, step: str) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    try:
        flash(_take(step, connector, store_id), "success")
    except flow.FlowError as exc:
        flash(str(exc), "error")
    return _here(connector, store_id)


@bp.post("/policies/<connector>/<store_id>/publish")
@page(roles.POLICIES_WRITE)
def policy_publish(connector: str, store_id: str) -> Any:
    if not _visible(connector, store_id):
        return _not_found(f"store {store_id}")
    note = request.form.get("note", "").strip()[:2000]
    try:
        done = flow.publish(current_hub(), _who(), connector, store_id, note)
    except flow.FlowError as exc:
        flash(str(exc), "error")
    else:
        if done.version is None:
            flash("Your publish is proposed. A second person must check it before it goes live.", "success")
        else:
            flash(f"Published as version {done.version.number}. New refunds are decided with it.", "success")
    return _here(connector, store_id)
