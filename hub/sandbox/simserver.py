"""Run a Flask app as a real HTTP server on 127.0.0.1, with faults injected per request.

Every simulator (gateways, platforms) is a Flask app served by ``SimulatorServer``, so the
official SDKs talk real HTTP to it. ``FaultPlan`` makes the next matching requests slow, fail
with a status, hang past the client's timeout, reset the connection before doing the work, or
do the work and then reset the connection ("succeeded, response lost").
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LATENCY = "latency"
ERROR = "error"
TIMEOUT = "timeout"
RESET = "reset"
LOST_RESPONSE = "lost_response"
SLOW_RESPONSE = "slow_response"  # do the work, then wait ``seconds`` before answering
KINDS = (LATENCY, ERROR, TIMEOUT, RESET, LOST_RESPONSE, SLOW_RESPONSE)


@dataclass
class Fault:
    kind: str
    status: int = 500
    seconds: float = 0.0
    times: int = 1
    method: str | None = None
    path: str | None = None  # a regular expression matched against the request path

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None


class FaultPlan:
    """Thread-safe queue of faults; each fault applies to its next ``times`` matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0  # added to every request, e.g. 0.15 for the gateway benchmark

    def add(self, kind: str, **options: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        fault = Fault(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


def reset_connection() -> None:
    """Abort the current client connection with a TCP RST (SO_LINGER 0, then close)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def install_faults(
    app: Flask,
    plan: FaultPlan,
    error_body: Callable[[int], Any] | None = None,
    control_prefix: str = "/__sim",
) -> None:
    """Hook ``plan`` into ``app`` and add ``POST {control_prefix}/faults`` to drive it over HTTP."""

    def body_for(status: int) -> Any:
        return error_body(status) if error_body else {"error": f"simulated {status}"}

    @app.before_request
    def _inject() -> Response | None:
        if request.path.startswith(control_prefix):
            return None
        if plan.latency:
            time.sleep(plan.latency)
        fault = plan.take(request.method, request.path)
        return None if fault is None else _apply(fault, body_for)

    @app.after_request
    def _lose(response: Response) -> Response:
        if g.get("sim_delay_response"):
            time.sleep(g.sim_delay_response)
        if g.get("sim_lose_response"):
            reset_connection()
        return response

    _control_route(app, plan, control_prefix)


def _apply(fault: Fault, body_for: Callable[[int], Any]) -> Response | None:
    """Act out one fault before the request is handled (an answer here replaces the handler's)."""
    if fault.kind == LATENCY:
        time.sleep(fault.seconds)
    elif fault.kind == TIMEOUT:
        time.sleep(fault.seconds or 30.0)
    elif fault.kind == ERROR:
        response = jsonify(body_for(fault.status))
        response.status_code = fault.status
        return response
    elif fault.kind == RESET:
        reset_connection()
        return Response(status=599)
    elif fault.kind == LOST_RESPONSE:
        g.sim_lose_response = True
    elif fault.kind == SLOW_RESPONSE:
        g.sim_delay_response = fault.seconds
    return None


def _control_route(app: Flask, plan: FaultPlan, control_prefix: str) -> None:
    """``POST {control_prefix}/faults``: clear, set the latency, or add a fault, over HTTP."""

    @app.post(f"{control_prefix}/faults")
    def _add_fault() -> Response:
        spec = request.get_json(force=True)
        if spec.get("clear"):
            plan.clear()
        if "latency" in spec:
            plan.latency = float(spec["latency"])
        if "kind" in spec:
            options = {k: spec[k] for k in ("status", "seconds", "times", "method", "path") if k in spec}
            plan.add(spec["kind"], **options)
        return jsonify({"ok": True})


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per request drowns test output
        pass


class SimulatorServer:
    """A threaded werkzeug server for ``app`` on 127.0.0.1; ``port=0`` picks a free port."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{self.app.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
