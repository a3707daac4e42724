"""The httpx transport of a Shopify app's Admin API calls: Shopify's CA bundle, no retries of its
own, ``admin_url`` standing in for ``https://{shop}.myshopify.com`` (simulators), and whether the
last request surely never left the machine. Imported only by calls to Shopify (``client``)."""

from __future__ import annotations

import ssl
from functools import cache

import certifi
import httpx

from connectors.shopify.settings import AppSettings


@cache
def _tls() -> ssl.SSLContext:
    """Built once: loading the CA bundle costs more than a whole API call to a nearby host."""
    return ssl.create_default_context(cafile=certifi.where())


class ShopTransport(httpx.BaseTransport):
    def __init__(self, app: AppSettings) -> None:
        self._inner = httpx.HTTPTransport(verify=_tls(), retries=0)
        self._template = app.admin_url
        self.surely_not_sent = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._template and request.url.host.endswith(".myshopify.com"):
            base = self._template.replace("{shop}", request.url.host).rstrip("/")
            request.url = httpx.URL(base + request.url.raw_path.decode("ascii"))
            request.headers["Host"] = request.url.netloc.decode("ascii")
        self.surely_not_sent = False
        try:
            return self._inner.handle_request(request)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self.surely_not_sent = True
            raise

    def close(self) -> None:
        self._inner.close()


def shop_client(app: AppSettings) -> tuple[httpx.Client, ShopTransport]:
    transport = ShopTransport(app)
    client = httpx.Client(transport=transport, timeout=httpx.Timeout(app.timeout, connect=min(app.timeout, 5.0)))
    return client, transport
