"""The ExamplePay simulator and an adapter pointed at it, shared by every test module."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from refundhub_example_gateway import ExamplePayGateway
from refundhub_example_gateway.simulator import ExamplePaySimulator


@pytest.fixture
def sim() -> Iterator[ExamplePaySimulator]:
    with ExamplePaySimulator() as simulator:
        yield simulator


@pytest.fixture
def make_adapter(sim: ExamplePaySimulator) -> Callable[..., ExamplePayGateway]:
    """Build an adapter for the simulator with some settings changed, as the hub builds one:
    from the account's table, less its ``type``."""

    def make(**changes: Any) -> ExamplePayGateway:
        table = {k: v for k, v in {**sim.hub_settings(), **changes}.items() if k != "type"}
        return ExamplePayGateway("examplepay-test", table)

    return make


@pytest.fixture
def gateway(make_adapter: Callable[..., ExamplePayGateway]) -> ExamplePayGateway:
    """What the contract suite and most tests use; a short read timeout makes a stall time out fast."""
    return make_adapter(timeout=0.5)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
