"""A tiny licence server on 127.0.0.1 for the usage-provider tests: real HTTP, its answers set per
path by the test, every request it received kept."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON unless bytes
    delay: float = 0.0


@dataclass
class LicenceServer:
    url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)  # path -> answer; others: 404
    seen: list[dict[str, str]] = field(default_factory=list)  # path and headers of every request


@contextmanager
def licence_server() -> Iterator[LicenceServer]:
    state = LicenceServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            state.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            answer = state.answers.get(self.path, Answer(404, {"error": "no such licence"}))
            time.sleep(answer.delay)
            raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
