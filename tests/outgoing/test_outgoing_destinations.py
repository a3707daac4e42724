"""The hub sends a merchant's webhooks out, never into its own network (unless told it is a
development machine): checked when an endpoint is stored and before every attempt."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from hub.ledger import webhook_deliveries
from hub.ledger.unit import read
from hub.outgoing import endpoints
from hub.outgoing.deliver import deliver_due
from hub.outgoing.destinations import Refused, check_literal, check_resolved
from tests.outgoing.conftest import FakeClock, Receiver, make_hub, requested


@pytest.mark.parametrize(
    "url",
    [
        "http://erp.example.com/h",
        "https://127.0.0.1/h",
        "https://10.0.0.8/h",
        "https://172.16.4.4/h",
        "https://192.168.1.1/h",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/h",
        "https://[fe80::1]/h",
        "https://0.0.0.0/h",
        "https://localhost/h",
        "https://api.localhost/h",
    ],
)
def test_local_and_private_destinations_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        check_literal(url, allow_private=False)
    check_literal(url, allow_private=True)  # a development machine may


def test_a_host_that_resolves_inside_is_refused_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    """A public-looking name whose DNS answer points inside (a resolver's answer, faked)."""
    import socket

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        address = {"erp.example.com": "10.0.0.7", "shop.example.com": "93.184.215.14"}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(Refused, match=r"erp.example.com resolves to a local or private address \(10.0.0.7\)"):
        check_resolved("https://erp.example.com/h", allow_private=False)
    check_resolved("https://shop.example.com/h", allow_private=False)  # a public address passes
    check_resolved("https://erp.example.com/h", allow_private=True)  # development: not even resolved


def test_an_attempt_to_a_destination_that_became_private_is_refused_and_counted(
    tmp_path: Any, receiver: Receiver, clock: FakeClock
) -> None:
    hub = make_hub(tmp_path)
    created = endpoints.create(hub, "s1", receiver.url, ["*"])
    requested(hub, "rq-1")
    hub.config.webhooks.allow_private_networks = False
    assert deliver_due(hub, clock) == Counter(failed=1)
    assert receiver.got == []
    found = endpoints.get(hub, created.endpoint.id)
    assert found is not None
    assert found.failures == 1
    with read(hub.engine) as conn:
        [delivery] = webhook_deliveries.deliveries(conn, created.endpoint.id)
    assert delivery["last_error"].startswith("refused: url: https is required")
