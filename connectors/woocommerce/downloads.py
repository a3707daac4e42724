"""How often an order's downloadable product was downloaded, from WooCommerce's download log.

WooCommerce logs every download (``wc_download_log``, guests' too) and reports it through the
analytics REST API: ``GET /wp-json/wc-analytics/reports/downloads?order_includes=<order>&
product_includes=<product or variation>`` counts the rows in ``X-WP-Total``. The report starts a
week back unless told otherwise, so ``after`` is a day before the order was created (no download
precedes its order; the day absorbs the site's time zone), and ``force_cache_refresh`` skips the
report cache. A store without the analytics routes (WooCommerce Admin off: 404 ``rest_no_route``)
or a key that may not read reports (401/403) gives None, and the caller falls back to the
permission's limit − remaining; a transient failure is raised, so the delivery is tried again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from connectors.woocommerce import transformers as tx
from connectors.woocommerce.client import WooClient, WooError

REPORT = "reports/downloads"


class DownloadLog:
    """The analytics client of one fetch; after one refusal it asks no more (the store's answer
    does not change between the lines of one order)."""

    def __init__(self, analytics: WooClient | None) -> None:
        self.analytics = analytics

    def count(self, order: Mapping[str, Any], item: Mapping[str, Any]) -> int | None:
        created = tx.gmt(order.get("date_created_gmt"))
        product = int(item.get("variation_id") or 0) or int(item.get("product_id") or 0)
        if self.analytics is None or created is None or not product:
            return None
        params = {
            "order_includes": int(order["id"]),
            "product_includes": product,
            "after": (created - timedelta(days=1)).isoformat(),
            "force_cache_refresh": True,
        }
        try:
            return self.analytics.total(REPORT, params)
        except WooError as exc:
            if exc.transient:
                raise
            self.analytics = None
            return None
