"""An in-process ExamplePay for tests: the refund API of ``gateway.py``'s docstring, served on
127.0.0.1 on a random port, so that the adapter is tested over real HTTP and never the internet.

It keeps payments and refunds in memory, honours ``Idempotency-Key`` (same key and body: the
first answer again, marked ``Idempotent-Replayed: true``; same key, other body: 422; same key
while the first is running: 409) and lets a test break the next matching requests::

    with ExamplePaySimulator() as sim:
        payment = sim.create_payment(4000, "USD")
        sim.answer_next(503)                  # refuse before doing anything
        sim.answer_next(500, after_work=True)  # do the refund, then answer 500
        sim.stall_next(2.0)                   # do the refund, answer after 2 s (client timeout)
        sim.drop_next()                       # do the refund, close the connection unanswered

Needs werkzeug (installed with refund-hub, which uses Flask).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SIGNATURE_HEADER = "X-ExamplePay-Signature"


@dataclass
class Fault:
    """What to do to the next ``times`` requests matching ``method`` and ``path``."""

    status: int | None = None  # answer this status (with ExamplePay's error envelope)
    stall: float = 0.0  # wait this long before answering
    drop: bool = False  # close the connection without answering
    after_work: bool = False  # do the request's work first (the answer is "lost")
    times: int = 1
    method: str = "POST"
    path: str = "/v1/refunds"


@dataclass
class Payment:
    id: str
    amount: int
    currency: str  # lower-case, as on the wire
    disputed: bool = False
    refunds: list[dict[str, Any]] = field(default_factory=list)

    def committed(self) -> int:
        """What refunds have taken or hold: succeeded and pending ones."""
        return sum(r["amount"] for r in self.refunds if r["status"] in ("succeeded", "pending"))


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    idempotency_key: str | None
    body: Any


class _ApiError(Exception):
    def __init__(self, status: int, kind: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.code, self.message = status, kind, code, message


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ExamplePaySimulator:
    def __init__(
        self,
        *,
        api_key: str = "ep_test_simulator",
        webhook_secret: str = "whsec_example_simulator",
        settle_refunds: bool = True,
        page_size: int = 100,
        port: int = 0,
    ) -> None:
        self.port = port  # 0: any free port (tests); a fixed one to point a running hub at it
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.settle_refunds = settle_refunds  # False: new refunds stay pending until settle()
        self.page_size = page_size
        self.payments: dict[str, Payment] = {}
        self.received: list[Received] = []
        self._refunds: dict[str, dict[str, Any]] = {}
        self._answers: dict[str, tuple[str, int, dict[str, Any]]] = {}  # key -> (body hash, status, answer)
        self._running: set[str] = set()
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = Map(
            [
                Rule("/v1/refunds", methods=["POST"], endpoint=self._create_refund),
                Rule("/v1/refunds/<refund_id>", methods=["GET"], endpoint=self._read_refund),
                Rule("/v1/payments/<payment_id>", methods=["GET"], endpoint=self._read_payment),
                Rule("/v1/payments/<payment_id>/refunds", methods=["GET"], endpoint=self._list_refunds),
            ]
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> ExamplePaySimulator:
        self._server = make_server("127.0.0.1", self.port, self, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="examplepay-sim", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> ExamplePaySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    def hub_settings(self) -> dict[str, Any]:
        """The ``[gateways.<account>]`` table that points the hub at this simulator."""
        return {
            "type": "examplepay",
            "base_url": self.url,
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "timeout": 2,
            "connect_timeout": 1,
        }

    # -- the test's side -------------------------------------------------------------------

    def create_payment(self, amount: int, currency: str = "USD", *, disputed: bool = False) -> str:
        """A captured payment of ``amount`` minor units; returns its id."""
        payment = Payment(f"pay_{uuid.uuid4().hex[:14]}", amount, currency.lower(), disputed)
        with self._lock:
            self.payments[payment.id] = payment
        return payment.id

    def refunds_of(self, payment_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self.payments[payment_id].refunds]

    def keys_sent(self) -> list[str | None]:
        """The Idempotency-Key of every refund POST that reached the simulator, faulted or not."""
        return [r.idempotency_key for r in self.received if r.method == "POST"]

    def settle(self, refund_id: str, status: str = "succeeded", failure_code: str | None = None) -> dict[str, Any]:
        with self._lock:
            refund = self._refunds[refund_id]
            refund["status"] = status
            refund["failure_code"] = failure_code
            return dict(refund)

    def answer_next(self, status: int, **options: Any) -> None:
        self._add(Fault(status=status, **options))

    def stall_next(self, seconds: float, *, after_work: bool = True, **options: Any) -> None:
        self._add(Fault(stall=seconds, after_work=after_work, **options))

    def drop_next(self, *, after_work: bool = True, **options: Any) -> None:
        self._add(Fault(drop=True, after_work=after_work, **options))

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def signed_event(self, refund_id: str, kind: str = "refund.updated") -> tuple[bytes, dict[str, str]]:
        """A status webhook for the refund as it is now: (raw body, headers), signed."""
        with self._lock:
            refund = dict(self._refunds[refund_id])
        body = json.dumps({"id": f"evt_{uuid.uuid4().hex[:14]}", "type": kind, "data": refund}).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature}

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_json(silent=True)
        self.received.append(Received(request.method, request.path, request.headers.get("Idempotency-Key"), body))
        fault = self._take_fault(request.method, request.path)
        if fault is not None and not fault.after_work:
            response = self._apply(fault, environ, None)
        else:
            response = self._dispatch(request, body)
            if fault is not None:
                response = self._apply(fault, environ, response)
        return response(environ, start_response)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.path == path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _apply(self, fault: Fault, environ: WSGIEnvironment, done: Response | None) -> Response:
        if fault.stall:
            time.sleep(fault.stall)
        if fault.drop:
            conn = environ.get("werkzeug.socket")
            if conn is not None:
                conn.shutdown(socket.SHUT_RDWR)  # the client reads an end of stream, no answer
            return Response(b"", status=500)
        if fault.status is not None:
            return _error(_ApiError(fault.status, "api_error", f"simulated_{fault.status}", "simulated failure"))
        return done if done is not None else Response(b"", status=204)

    def _dispatch(self, request: Request, body: Any) -> Response:
        try:
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                raise _ApiError(401, "authentication_error", "invalid_api_key", "no valid API key was given")
            endpoint, args = self._routes.bind_to_environ(request.environ).match()
            handler: Callable[..., tuple[int, dict[str, Any]]] = endpoint
            status, answer = handler(request, body, **args)
            response = Response(json.dumps(answer), status=status, content_type="application/json")
            if request.environ.get("examplepay.replayed"):
                response.headers["Idempotent-Replayed"] = "true"
            return response
        except _ApiError as exc:
            return _error(exc)
        except NotFound:
            return _error(_ApiError(404, "invalid_request_error", "route_not_found", f"no route {request.path}"))
        except HTTPException as exc:
            status = exc.code or 400
            return _error(_ApiError(status, "invalid_request_error", f"http_{status}", exc.description or ""))

    # -- endpoints -------------------------------------------------------------------------

    def _create_refund(self, request: Request, body: Any) -> tuple[int, dict[str, Any]]:
        key = request.headers.get("Idempotency-Key")
        if not key:
            raise _ApiError(400, "invalid_request_error", "idempotency_key_required", "send an Idempotency-Key")
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if key in self._running:
                raise _ApiError(409, "idempotency_error", "idempotency_key_in_use", "a request with this key runs")
            if key in self._answers:
                first, status, answer = self._answers[key]
                if first != fingerprint:
                    raise _ApiError(422, "idempotency_error", "idempotency_key_reused", "key used with other params")
                request.environ["examplepay.replayed"] = True
                return status, answer
            self._running.add(key)
        try:
            try:
                status, answer = 201, self._refund(body)
            except _ApiError as exc:
                status, answer = exc.status, _envelope(exc)
            with self._lock:
                self._answers[key] = (fingerprint, status, answer)
        finally:
            with self._lock:
                self._running.discard(key)
        return status, answer

    def _refund(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _ApiError(400, "invalid_request_error", "invalid_body", "the body must be a JSON object")
        amount, currency = body.get("amount"), body.get("currency")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _ApiError(400, "invalid_request_error", "invalid_amount", "amount: a positive integer")
        with self._lock:
            payment = self.payments.get(str(body.get("payment")))
            if payment is None:
                raise _ApiError(404, "invalid_request_error", "payment_not_found", "no such payment")
            if currency != payment.currency:
                raise _ApiError(
                    400, "invalid_request_error", "currency_mismatch", f"the payment is in {payment.currency}"
                )
            if payment.disputed:
                raise _ApiError(402, "refund_error", "payment_disputed", "the payment is disputed")
            if payment.committed() + amount > payment.amount:
                raise _ApiError(402, "refund_error", "amount_exceeds_balance", "more than is left to refund")
            refund: dict[str, Any] = {
                "id": f"re_{uuid.uuid4().hex[:14]}",
                "object": "refund",
                "payment": payment.id,
                "amount": amount,
                "currency": payment.currency,
                "status": "succeeded" if self.settle_refunds else "pending",
                "failure_code": None,
                "reason": body.get("reason"),
                "metadata": dict(body.get("metadata") or {}),
                "created": time.time(),
            }
            payment.refunds.append(refund)
            self._refunds[refund["id"]] = refund
            return dict(refund)

    def _read_refund(self, request: Request, body: Any, refund_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if refund_id not in self._refunds:
                raise _ApiError(404, "invalid_request_error", "refund_not_found", "no such refund")
            return 200, dict(self._refunds[refund_id])

    def _payment(self, payment_id: str) -> Payment:
        if payment_id not in self.payments:
            raise _ApiError(404, "invalid_request_error", "payment_not_found", "no such payment")
        return self.payments[payment_id]

    def _read_payment(self, request: Request, body: Any, payment_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            payment = self._payment(payment_id)
            return 200, {
                "id": payment.id,
                "object": "payment",
                "status": "captured",
                "amount_captured": payment.amount,
                "amount_refunded": payment.committed(),
                "currency": payment.currency,
                "disputed": payment.disputed,
            }

    def _list_refunds(self, request: Request, body: Any, payment_id: str) -> tuple[int, dict[str, Any]]:
        limit = min(int(request.args.get("limit", self.page_size)), self.page_size)
        after = request.args.get("starting_after")
        with self._lock:
            refunds = [dict(r) for r in self._payment(payment_id).refunds]
        start = next((i + 1 for i, r in enumerate(refunds) if r["id"] == after), 0) if after else 0
        page = refunds[start : start + limit]
        return 200, {"object": "list", "data": page, "has_more": start + limit < len(refunds)}


def _envelope(exc: _ApiError) -> dict[str, Any]:
    return {"error": {"type": exc.kind, "code": exc.code, "message": exc.message}}


def _error(exc: _ApiError) -> Response:
    return Response(json.dumps(_envelope(exc)), status=exc.status, content_type="application/json")
