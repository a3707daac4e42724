"""Downloads counted from WooCommerce's download log (``wc-analytics/reports/downloads``) over real
HTTP: unlimited products and guests included, limit − remaining only where the report is not
served, unknown where neither says, a transient failure raised for a retry."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connectors.woocommerce import WooCommerceConnector
from connectors.woocommerce.sim import WooCommerceSimulator
from hub.contracts import Notice, StoreContext
from hub.errors import PlatformUnavailable
from hub.models import Line, RefundRequested


def _digital_line(connector: WooCommerceConnector, store: StoreContext, order_id: int) -> Line:
    notice = Notice(kind="requested", store_id=store.id, topic="order.updated", order_id=str(order_id))
    event = connector.fetch(store, notice)
    assert isinstance(event, RefundRequested)
    [line] = [line for line in event.request.lines if line.kind.value == "digital"]
    return line


def _order(sim: WooCommerceSimulator, limit: int = -1, **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ebook = sim.add_product("Ebook", "12.00", virtual=True, downloadable=True, download_limit=limit)
    mug = sim.add_product("Mug", "8.50")
    order = sim.add_order([(ebook["id"], 1), (mug["id"], 1)], transaction_id="ch_1", **options)
    sim.request_refund(order["id"])
    return order, ebook


def test_an_unlimited_product_reports_its_logged_downloads(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, ebook = _order(sim, customer_id=26)
    assert _digital_line(connector, store, order["id"]).usage.downloads == 0  # type: ignore[union-attr]
    sim.download(order["id"], ebook["id"], times=4)
    usage = _digital_line(connector, store, order["id"]).usage
    assert usage is not None
    assert (usage.downloads, usage.download_limit, usage.accessed) == (4, None, True)


def test_a_guest_order_is_counted_too(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, ebook = _order(sim, limit=3, customer_id=0, email="guest@example.com")
    sim.download(order["id"], ebook["id"], times=2)
    usage = _digital_line(connector, store, order["id"]).usage
    assert usage is not None
    assert (usage.downloads, usage.download_limit) == (2, 3)


def test_the_report_answers_with_the_real_shape_and_an_old_order_needs_after(sim: WooCommerceSimulator) -> None:
    order, ebook = _order(sim, customer_id=26)
    sim.download(order["id"], ebook["id"], times=3)
    other, other_book = _order(sim, customer_id=27)
    sim.download(other["id"], other_book["id"])
    auth = (sim.consumer_key, sim.consumer_secret)
    url = f"{sim.url}/wp-json/wc-analytics/reports/downloads"
    answer = requests.get(url, params={"order_includes": order["id"], "per_page": 2}, auth=auth, timeout=5)
    assert answer.status_code == 200
    assert (answer.headers["X-WP-Total"], answer.headers["X-WP-TotalPages"]) == ("3", "2")
    row = answer.json()[0]
    assert {"id", "product_id", "date", "date_gmt", "download_id", "file_name", "order_id", "user_id"} <= set(row)
    assert (row["order_id"], row["product_id"], row["user_id"]) == (order["id"], ebook["id"], 26)
    for entry in sim.shop.download_log:  # logged eight days ago: outside the report's default week
        entry["timestamp"] = "2020-01-01T00:00:00"
    assert requests.get(url, params={"order_includes": order["id"]}, auth=auth, timeout=5).headers["X-WP-Total"] == "0"
    since = {"order_includes": order["id"], "after": "2019-12-31T00:00:00+00:00"}
    assert requests.get(url, params=since, auth=auth, timeout=5).headers["X-WP-Total"] == "3"
    assert requests.get(url, params=since, timeout=5).status_code == 401  # the REST keys are needed


def test_without_the_report_limit_minus_remaining_then_unknown(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    limited, limited_book = _order(sim, limit=5, customer_id=26)
    unlimited, unlimited_book = _order(sim, customer_id=26)
    for order, book in ((limited, limited_book), (unlimited, unlimited_book)):
        sim.download(order["id"], book["id"], times=2)
    sim.analytics_fault = 404  # WooCommerce Admin's analytics switched off
    assert _digital_line(connector, store, limited["id"]).usage.downloads == 2  # type: ignore[union-attr]
    assert _digital_line(connector, store, unlimited["id"]).usage.downloads is None  # type: ignore[union-attr]
    sim.analytics_fault = 403  # a key that may not read reports
    assert _digital_line(connector, store, limited["id"]).usage.downloads == 2  # type: ignore[union-attr]


def test_a_transient_report_failure_is_retried_later(
    sim: WooCommerceSimulator, connector: WooCommerceConnector, store: StoreContext
) -> None:
    order, _ = _order(sim, customer_id=26)
    sim.analytics_fault = 503
    with pytest.raises(PlatformUnavailable):
        _digital_line(connector, store, order["id"])
