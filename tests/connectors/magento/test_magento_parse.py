"""Notices parsed from verified Adobe pushes: every event fixture, and what is not about refunds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .conftest import CLIENT, CREDITMEMO, PROVIDER, io_delivery, make_connector, samples


def test_parse_each_event_fixture(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    values = samples(kit)
    values["observer.sales_order_save_after"]["status"] = "refund_requested"
    kinds = {}
    for name, value in values.items():
        item = io_delivery(keys, kit.envelope(name, value, provider=PROVIDER, client=CLIENT))
        (notice,) = connector.parse(kit.delivery(connector, item))
        kinds[name] = (notice.kind, notice.source_ref, notice.hints.get("entity"))
    assert kinds == {
        CREDITMEMO: ("recorded", "creditmemo:sample", "creditmemo"),  # the schema has no entity_id
        "observer.rma_save_after": ("requested", "rma:7", "rma"),
        "observer.sales_order_save_after": ("requested", "order:sample:status:refund_requested", "order"),
    }
    product = io_delivery(keys, kit.load("adobe_io_events_cloudevent_envelope_example.json"))
    assert [n.kind for n in connector.parse(kit.delivery(connector, product))] == ["ignored"]


def test_closed_rma_and_unmarked_order_are_ignored(keys: SimpleNamespace, kit: Any) -> None:
    connector = make_connector(keys)
    for name, value in (
        ("observer.rma_save_after", {"entity_id": 3, "order_id": 2, "status": "closed"}),
        ("observer.sales_order_save_after", {"entity_id": 2, "status": "complete"}),
    ):
        item = io_delivery(keys, kit.envelope(name, value, provider=PROVIDER, client=CLIENT))
        assert [n.kind for n in connector.parse(kit.delivery(connector, item))] == ["ignored"]
