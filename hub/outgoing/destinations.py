"""Where the hub may send a merchant's webhooks: not into its own network. An endpoint URL is a
merchant's input, so a hub serving several merchants must not become a way to reach the
machines beside it (server-side request forgery). Unless ``[webhooks] allow_private_networks``
(development), plain http is refused, and so is any host that is, or resolves to, a loopback,
private, link-local, reserved or multicast address — checked when the endpoint is stored and
again before every attempt (DNS can change). A resolver that answers differently between the
check and the connection is not covered: behind an untrusted DNS, send through an egress proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(ValueError):
    """The destination is not one the hub sends to; the message says why."""


def _inside(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified


def check_literal(url: str, allow_private: bool) -> None:
    """At creation: the scheme, and a host given as an address."""
    parts = urlsplit(url)
    if allow_private:
        return
    if parts.scheme != "https":
        raise Refused("url: https is required (plain http only with [webhooks] allow_private_networks)")
    host = parts.hostname or ""
    try:
        literal = _inside(host)
    except ValueError:
        literal = host == "localhost" or host.endswith(".localhost")
    if literal:
        raise Refused(f"url: {host} is a local or private address")


def check_resolved(url: str, allow_private: bool) -> None:
    """Before an attempt: every address the host resolves to is a public one."""
    if allow_private:
        return
    check_literal(url, allow_private)
    parts = urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname or "", parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"{parts.hostname} does not resolve: {exc}") from exc
    inside = sorted({str(info[4][0]) for info in found if _inside(str(info[4][0]))})
    if inside:
        raise Refused(f"{parts.hostname} resolves to a local or private address ({', '.join(inside)})")
