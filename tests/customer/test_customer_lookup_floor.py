"""The order look-up takes the same time whether the order exists or not: every answer waits out
the store's ``lookup_floor_ms`` from when the look-up began. Checked on the code path with a
clock of the test's own (the platform's reads "take" what the test says), never by timing."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from hub.customer import orders
from tests.customer.conftest import stack  # noqa: F401 - fixture
from tests.customer.shops import APPROVE, open_woo, woo_order
from tests.customer.test_customer_pages import find


class Clock:
    """``monotonic`` and ``sleep`` for ``hub.customer.orders``: time moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_found_and_not_found_look_ups_take_the_floor(
    stack: ExitStack,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = open_woo(stack, tmp_path, APPROVE, lookup_floor_ms=800)
    order = woo_order(shop)
    clock = Clock()
    monkeypatch.setattr(orders, "monotonic", clock.monotonic)
    monkeypatch.setattr(orders, "sleep", clock.sleep)
    read_for_real, reads = orders._read_order, []

    def costly(plugin: Any, store: Any, number: str) -> Any:
        found = read_for_real(plugin, store, number)
        clock.now += 0.35 if found is not None else 0.02  # an order that exists costs more reads
        reads.append(number)
        return found

    monkeypatch.setattr(orders, "_read_order", costly)
    client = shop.hub.app.test_client()
    number = str(order["id"])
    took, answers = [], []
    for asked, email in ((number, "wrong@example.com"), ("999999", "ana@example.com"), (number, "ana@example.com")):
        began = clock.now
        answers.append(find(client, shop, asked, email))
        took.append(clock.now - began)

    assert reads == [number, "999999", number]  # every look-up asks the platform once
    assert took == pytest.approx([0.8, 0.8, 0.8])  # wrong e-mail, no such order, found: the same
    assert clock.slept == pytest.approx([0.45, 0.78, 0.45])
    wrong_email, no_order, found = answers
    assert wrong_email.status_code == no_order.status_code == 200
    assert wrong_email.text.replace(number, "999999") == no_order.text  # the same page, only the number typed
    assert found.status_code == 303


def test_a_look_up_slower_than_the_floor_is_not_made_slower(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(orders, "monotonic", clock.monotonic)
    monkeypatch.setattr(orders, "sleep", clock.sleep)
    began = clock.now
    clock.now += 1.5
    assert orders.pad_to_floor(began, 1000) == 0.0
    assert clock.slept == []
    assert orders.pad_to_floor(clock.now - 0.25, 1000) == pytest.approx(0.75)
