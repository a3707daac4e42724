"""The simulated Magento REST API (``/rest/V1`` and ``/rest/<store_code>/V1``) as a Flask app.

Every ``/rest`` call is authenticated like Magento does for integrations (OAuth 1.0a, or a bearer
access token where allowed); writes are logged in ``sim.writes`` so tests can count them. The
RMA endpoints exist only in Adobe Commerce mode, like the ``Magento_Rma`` module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, jsonify, request

from connectors.magento.sim import control, salesrules
from connectors.magento.sim.search import search
from connectors.magento.sim.state import MagentoFault

if TYPE_CHECKING:
    from connectors.magento.sim.server import MagentoSimulator

STORE_CODE = re.compile(r"^/rest/(?!V1/)[^/]+/(V1/.*)$")
NO_ROUTE = "Request does not match any route."


def _store_code_paths(app: Any) -> Callable[..., Iterable[bytes]]:
    """Serve ``/rest/<code>/V1/...`` as ``/rest/V1/...``, keeping the raw path OAuth signed."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", ""))
        environ["magento.raw_path"] = raw.split("?", 1)[0]
        found = STORE_CODE.match(environ.get("PATH_INFO", ""))
        if found:
            environ["PATH_INFO"] = f"/rest/{found.group(1)}"
        return app(environ, start_response)

    return wsgi


def build_app(sim: MagentoSimulator) -> Flask:
    app = Flask("magento-simulator")
    app.wsgi_app = _store_code_paths(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(sim.oauth.blueprint())
    _around(app, sim)
    _sales_routes(app, sim)
    _catalog_and_returns_routes(app, sim)
    _adobe_routes(app, sim)
    control.register(app, sim)
    salesrules.register(app, sim)  # what the hub issues instead of a refund
    return app


def _listing(sim: MagentoSimulator, name: str, rows: list[dict[str, Any]]) -> Response:
    page = int(request.args.get("searchCriteria[currentPage]") or 1)
    status = sim.page_faults.pop((name, page), None)
    if status is not None:
        return _failed(sim, status)
    return jsonify(search(rows, request.args))


def _failed(sim: MagentoSimulator, status: int) -> Response:
    response = jsonify(sim.error_body(status))
    response.status_code = status
    return response


def _commerce_only(sim: MagentoSimulator) -> None:
    if sim.edition != "commerce":
        raise MagentoFault(404, NO_ROUTE)


def _around(app: Flask, sim: MagentoSimulator) -> None:
    """Faults as Magento's error envelope, OAuth on every REST call, writes logged for the tests."""

    @app.errorhandler(MagentoFault)
    def fault(exc: MagentoFault) -> tuple[Response, int]:
        return jsonify(exc.body), exc.status

    @app.before_request
    def authenticate() -> None:
        if request.path.startswith("/rest/"):
            sim.oauth.authenticate(request.environ.get("magento.raw_path", request.path))

    @app.after_request
    def log_write(response: Response) -> Response:
        if request.path.startswith("/rest/") and request.method != "GET" and response.status_code < 400:
            sim.writes.append((request.method, request.path, request.get_json(silent=True)))
        return response


def _sales_routes(app: Flask, sim: MagentoSimulator) -> None:
    """Orders, invoices, their refunds and the credit memos they make."""
    state = sim.state

    @app.get("/rest/V1/orders/<order_id>")
    def order(order_id: str) -> Response:
        return jsonify(state.get(state.orders, order_id))

    @app.get("/rest/V1/orders")
    def orders() -> Response:
        return _listing(sim, "orders", state.rows(state.orders))

    @app.post("/rest/V1/orders/<order_id>/comments")
    def comment(order_id: str) -> Response:
        state.add_comment(order_id, (request.get_json(force=True) or {}).get("statusHistory") or {})
        return jsonify(True)

    @app.get("/rest/V1/shipments")
    def shipments() -> Response:
        return _listing(sim, "shipments", state.rows(state.shipments))

    @app.get("/rest/V1/invoices")
    def invoices() -> Response:
        return _listing(sim, "invoices", state.rows(state.invoices))

    @app.get("/rest/V1/invoices/<invoice_id>")
    def invoice(invoice_id: str) -> Response:
        return jsonify(state.get(state.invoices, invoice_id))

    @app.post("/rest/V1/order/<order_id>/refund")
    def refund_order(order_id: str) -> Response:
        return jsonify(state.refund_order(order_id, request.get_json(force=True) or {}))

    @app.post("/rest/V1/invoice/<invoice_id>/refund")
    def refund_invoice(invoice_id: str) -> Response:
        return jsonify(state.refund_invoice(invoice_id, request.get_json(force=True) or {}))

    @app.get("/rest/V1/creditmemos")
    def creditmemos() -> Response:
        return _listing(sim, "creditmemos", state.rows(state.creditmemos))

    @app.get("/rest/V1/creditmemo/<memo_id>")
    def creditmemo(memo_id: str) -> Response:
        return jsonify(state.get(state.creditmemos, memo_id))

    @app.get("/rest/V1/creditmemo/<memo_id>/comments")
    def creditmemo_comments(memo_id: str) -> Response:
        comments = state.get(state.creditmemos, memo_id)["comments"]
        return jsonify({"items": comments, "total_count": len(comments)})


def _catalog_and_returns_routes(app: Flask, sim: MagentoSimulator) -> None:
    """Products by SKU, and the RMAs of Adobe Commerce (absent on Open Source)."""
    state = sim.state

    @app.get("/rest/V1/products/<path:sku>")
    def product(sku: str) -> Response:
        with state.lock:
            found = state.products.get(sku)
        if found is None:
            raise MagentoFault(404, "The product that was requested doesn't exist. Verify the product and try again.")
        return jsonify(found)

    @app.get("/rest/V1/returns")
    def returns() -> Response:
        _commerce_only(sim)
        return _listing(sim, "returns", state.rows(state.returns))

    @app.get("/rest/V1/returns/<rma_id>")
    def rma(rma_id: str) -> Response:
        _commerce_only(sim)
        return jsonify(state.get(state.returns, rma_id))

    @app.put("/rest/V1/returns/<rma_id>")
    def update_rma(rma_id: str) -> Response:
        _commerce_only(sim)
        return jsonify(state.update_rma(rma_id, (request.get_json(force=True) or {}).get("rmaDataObject") or {}))


def _adobe_routes(app: Flask, sim: MagentoSimulator) -> None:
    """What Adobe serves around the store: the I/O Events public keys, the activation's landing page."""

    @app.get("/prod/keys/<name>")
    def io_events_key(name: str) -> Response:
        pem = sim.events.pem_at(f"/prod/keys/{name}")
        if pem is None:
            abort(404)
        return Response(pem, mimetype="application/x-pem-file")

    @app.get("/admin/admin/integration/loginSuccessCallback")
    def login_success() -> str:
        return "integration activated"
