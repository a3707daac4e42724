"""The unsigned creation ping: always acknowledged, stored one by one only for the hub's own
subscriptions (webhook ids it recorded, or while it is creating webhooks), so a flood of pings
with made-up ``webhook_id``s cannot fill the hub's delivery table."""

from __future__ import annotations

import json
from typing import Any

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from connectors.woocommerce.verify import (
    CREATING_WEBHOOKS,
    KNOWN_WEBHOOKS,
    MAX_KNOWN_WEBHOOKS,
    PING_SLOTS,
    UNKNOWN_STORE,
)
from hub.contracts import StoreContext, Verified
from hub.testing import inbound
from hub.testing.stores import MemoryStores

from .conftest import SHOP, Wait

BOUND = PING_SLOTS + MAX_KNOWN_WEBHOOKS + 1  # the most pings a store can have stored


def _ping(connector: WooCommerceConnector, webhook_id: int, store: str | None = SHOP) -> Verified:
    return connector.verify(
        inbound(
            f"webhook_id={webhook_id}".encode(),
            content_type="application/x-www-form-urlencoded",
            query={"store": store} if store else None,
        )
    )


def _stored(verified: list[Verified]) -> set[tuple[str, str]]:
    """What the hub keeps: one delivery per (store, dedupe key), the rest are duplicates."""
    return {(v.store_id, v.dedupe_key) for v in verified}


def test_a_flood_of_unsigned_pings_stores_a_bounded_number(
    docs_connector: WooCommerceConnector, docs_stores: MemoryStores
) -> None:
    docs_stores.set_state(SHOP, KNOWN_WEBHOOKS, json.dumps(["41", "42", "43"]))
    flood = [_ping(docs_connector, n) for n in range(1000, 1300)]
    assert all(v.ack_only and v.topic == "ping" and v.store_id == SHOP for v in flood)
    assert len(_stored(flood)) == 1  # 300 made-up webhook ids: one stored, 299 duplicates
    anywhere = [_ping(docs_connector, n, store=None) for n in range(300)]
    assert all(v.ack_only and v.store_id == UNKNOWN_STORE for v in anywhere)
    assert len(_stored(anywhere)) == 1


def test_pings_of_the_hubs_own_webhooks_are_stored_one_by_one(
    docs_connector: WooCommerceConnector, docs_stores: MemoryStores
) -> None:
    docs_stores.set_state(SHOP, KNOWN_WEBHOOKS, json.dumps(["41", "42", "43"]))
    own = [_ping(docs_connector, n) for n in (41, 42, 43, 41)]
    assert len(_stored(own)) == 3
    assert _stored(own).isdisjoint(_stored([_ping(docs_connector, 1000)]))


def test_while_the_hub_creates_webhooks_new_pings_are_taken_but_bounded(
    docs_connector: WooCommerceConnector, docs_stores: MemoryStores
) -> None:
    docs_stores.set_state(SHOP, CREATING_WEBHOOKS, "1", ttl=60)
    created = [_ping(docs_connector, n) for n in (57, 58, 59)]  # ids WooCommerce has not answered yet
    assert len(_stored(created)) == 3
    flood = [_ping(docs_connector, n) for n in range(5000, 5300)]
    assert len(_stored(created + flood)) <= PING_SLOTS
    docs_stores.set_state(SHOP, CREATING_WEBHOOKS, None)
    assert len(_stored([_ping(docs_connector, n) for n in range(9000, 9300)])) == 1


def test_never_more_than_the_bound_per_store(docs_connector: WooCommerceConnector, docs_stores: MemoryStores) -> None:
    docs_stores.set_state(SHOP, KNOWN_WEBHOOKS, json.dumps([str(n) for n in range(100)]))  # a state grown too big
    docs_stores.set_state(SHOP, CREATING_WEBHOOKS, "1", ttl=60)
    every = [_ping(docs_connector, n) for n in range(3000)]
    docs_stores.set_state(SHOP, CREATING_WEBHOOKS, None)
    every += [_ping(docs_connector, n) for n in range(3000)]
    assert len(_stored(every)) <= BOUND


def test_ensure_webhooks_records_the_hubs_webhook_ids(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, stores: MemoryStores
) -> None:
    assert connector.check_webhooks(store) == []
    assert json.loads(stores.get_state(store.id, KNOWN_WEBHOOKS) or "[]") == ["1", "2", "3"]
    del sim.shop.webhooks[3]
    connector.check_webhooks(store)
    assert json.loads(stores.get_state(store.id, KNOWN_WEBHOOKS) or "[]") == ["1", "2", "4"]
    assert stores.get_state(store.id, CREATING_WEBHOOKS) is None  # the creation window is closed again
    later = [_ping(connector, n, store=store.id) for n in (1, 4, 4, 77)]
    assert len(_stored(later)) == 3


def test_the_creation_ping_arrives_before_the_id_and_is_still_the_hubs(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext, hub_side: Any, wait: Wait
) -> None:
    """WooCommerce's REST ``create_item`` pings before it answers: the hub learns the id after the ping."""
    del sim.shop.webhooks[2]
    connector.check_webhooks(store)
    [(_, ping)] = wait(lambda: hub_side.verified("ping"))
    assert ping.ack_only and ping.store_id == store.id and "|creating:" in ping.dedupe_key
    assert [p.status for p in sim.hooks.pings] == [200]
