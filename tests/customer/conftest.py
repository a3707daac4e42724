"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message the hub sends, and the
hub's ``[email]`` pointed at it."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest

from hub.runtime.config import EmailSettings


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``refuse`` makes it answer 451 to the next N messages."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 Requested action aborted: local error in processing"
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def settings(self) -> EmailSettings:
        return EmailSettings(host=self.host, port=self.port, starttls=False, from_address="refunds@shop.example")

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def with_email(mailbox: Mailbox) -> Callable[[Any], None]:
    """Point a harness's hub at the test SMTP server."""

    def point(harness: Any) -> None:
        harness.config.email = mailbox.settings()

    return point


@pytest.fixture
def stack() -> Iterator[Any]:
    from contextlib import ExitStack

    with ExitStack() as opened:
        yield opened
