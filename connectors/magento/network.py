"""HTTP to a URL someone outside chose (the store's URL an activation names), without SSRF.

The host is resolved once; every request of the session connects to that one address (the URL's
host stays in the ``Host`` header, in TLS SNI and in the certificate check), so a second DNS answer
(rebinding) is never used. Redirects are never followed, environment proxies never used, and an
address that is not public (private, loopback, link-local, shared, reserved, multicast,
unspecified) is refused unless the connector's ``allow_private_networks`` setting allows it (the
simulators on 127.0.0.1, a Magento on the hub's own private network).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_S = TypeVar("_S", bound=requests.Session)


class UnsafeURL(ValueError):
    pass


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int, *, allow_private: bool) -> Address:
    """The one address requests to ``host`` will go to; every answer must be allowed, not just one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"host {host} does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeURL(f"host {host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeURL(f"host {host} resolves to a non-public address {refused[0]}")
    return addresses[0]


class PinnedAdapter(HTTPAdapter):
    """Sends each request for ``host`` to ``address``; a request for any other host is refused."""

    def __init__(self, host: str, address: Address) -> None:
        self.host = host.lower()
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        # TLS speaks to the name (SNI, certificate check), the socket to the address (http drops these)
        super().init_poolmanager(
            connections, maxsize, block, server_hostname=self.host, assert_hostname=self.host, **pool_kwargs
        )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(str(request.url))
        if (parts.hostname or "").lower() != self.host or parts.username or parts.password:
            raise requests.exceptions.InvalidURL(f"{parts.hostname} is not the host this session is pinned to")
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        request.headers["Host"] = parts.netloc
        request.url = urlunsplit(parts._replace(netloc=f"{literal}:{parts.port}" if parts.port else literal))
        return super().send(request, *args, **kwargs)


def pinned_adapter(url: str, *, allow_private: bool) -> PinnedAdapter:
    """An adapter for ``url``'s host, resolved now, once."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("the URL must be http(s) and name a host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("the URL has a bad port") from None
    return PinnedAdapter(parts.hostname, resolve(parts.hostname, port, allow_private=allow_private))


def pinned(session: _S, adapter: PinnedAdapter) -> _S:
    """``session`` reaching only the adapter's address, following no redirect."""
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False  # no proxy from the environment: it would resolve the host again
    session.max_redirects = 0  # a redirect raises TooManyRedirects before anything is sent
    return session
