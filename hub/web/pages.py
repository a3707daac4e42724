"""Pages a person opens in a browser outside the console (installing a store), and the one error
shape every endpoint answers with.

Every error is ``{"error": <code>, "message": <sentence>}``. A browser that asks for HTML first (its
``Accept`` prefers ``text/html``) on a page route gets the same code and sentence as a page; the JSON
API and the webhook receivers answer JSON whatever the client asks. Connectors render their install
pages with ``page`` and refuse with ``problem``, so a merchant never meets plain text, a bare 400 or
a stack of HTML from a plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

TEMPLATES = Path(__file__).parent / "templates"
MACHINE_PATHS = ("/api/", "/webhooks/", "/metrics", "/healthz")
TITLES = {400: "That did not work", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 409: "Not now"}


def wants_page() -> bool:
    """A browser on a page route: it prefers HTML to JSON (``*/*`` alone gets JSON)."""
    if request.path.startswith(MACHINE_PATHS):
        return False
    accepted = request.accept_mimetypes
    return (
        accepted.best_match(["application/json", "text/html"]) == "text/html"
        and accepted["text/html"] > accepted["application/json"]
    )


def problem(code: str, message: str, status: int) -> Response:
    """The error answer: JSON, or for a browser the same code and message as a page."""
    if wants_page():
        title = TITLES.get(status, "Something went wrong" if status >= 500 else "That did not work")
        return page("pages/problem.html", status, code=code, title=title, message=message)
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An HTML page from the hub's ``templates/pages`` (or the app's own templates), in whatever
    app mounts the plugin's blueprint: the console's stylesheet and link only where it is mounted."""
    values = {"assets": _assets(), "console_url": _console(), "status": status, **context}
    html = _environment().get_template(template).render(**values)
    return Response(html, status=status, mimetype="text/html")


def _environment() -> Environment:
    found = current_app.extensions.get("refund_hub_pages")
    if found is None:
        own = [current_app.jinja_loader] if current_app.jinja_loader else []
        loader = ChoiceLoader([FileSystemLoader(TEMPLATES), *own])
        found = current_app.extensions["refund_hub_pages"] = current_app.jinja_env.overlay(loader=loader)
    return found  # type: ignore[no-any-return]


def _assets() -> dict[str, str] | None:
    if "console.static" not in current_app.view_functions:
        return None
    return {
        "stylesheet": url_for("console.static", filename="console.css"),
        "logo": url_for("console.static", filename="logo.svg"),
    }


def _console() -> str | None:
    return url_for("console.stores") if "console.stores" in current_app.view_functions else None


@dataclass(frozen=True)
class InstallForm:
    """What a connector's install start asks a merchant for (one field: the store's address)."""

    platform: str
    intro: str
    field: str
    label: str
    placeholder: str
    help: str


def install_form(form: InstallForm, error: str = "", value: str = "") -> Response:
    """The install start form, again with ``error`` (a 400) when what was typed cannot be used."""
    return page(
        "pages/install_form.html",
        400 if error else 200,
        platform=form.platform,
        intro=form.intro,
        action=request.path,
        field=form.field,
        label=form.label,
        placeholder=form.placeholder,
        help=form.help,
        value=value,
        error=error,
    )
