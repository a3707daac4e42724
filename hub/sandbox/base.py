"""The shape every simulator shares: a Flask app on 127.0.0.1, a fault plan, a webhook sender.

``refund-hub sandbox`` and the tests start simulators through this interface only:
``start()``, ``stop()``, ``url``, ``faults``, ``webhook_url`` (where to send signed webhooks:
the hub's ``/webhooks/...`` URL) and ``hub_settings()`` (the configuration a hub store or
gateway account needs to talk to this simulator).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from flask import Flask

from hub.sandbox.sender import WebhookSender
from hub.sandbox.simserver import FaultPlan, SimulatorServer, install_faults


class Simulator(ABC):
    name: str = "simulator"

    def __init__(self, port: int = 0, webhook_url: str | None = None) -> None:
        self.faults = FaultPlan()
        self.webhook_url = webhook_url
        self.sender = WebhookSender()
        self.app = self.build_app()
        install_faults(self.app, self.faults, error_body=self.error_body)
        self._server = SimulatorServer(self.app, port=port)

    @abstractmethod
    def build_app(self) -> Flask:
        """The vendor-shaped Flask app (routes only; faults are installed around it)."""

    @abstractmethod
    def hub_settings(self) -> dict[str, Any]:
        """Settings for the hub to reach this simulator (base URL, keys, secrets)."""

    def error_body(self, status: int) -> Any:
        """The vendor's error envelope for an injected HTTP error."""
        return {"error": f"simulated {status}"}

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> Simulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.sender.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
