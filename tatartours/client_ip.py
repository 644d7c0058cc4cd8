"""The client's IP address, by one rule for HTTP requests and WebSocket handshakes.

Without trusted proxies (TRUSTED_PROXY_COUNT = 0) it is the peer address of
the connection. With N trusted reverse proxies in front, each appending the
address it saw to X-Forwarded-For (nginx's `$proxy_add_x_forwarded_for`), it
is the N-th address from the right: the one the outermost trusted proxy saw.
Whatever a client wrote further left is its own claim and is ignored, so a
client cannot choose its IP for the per-IP limits or /metrics' loopback trust.

Used by the socket limits (chat.guards), the HTTP form throttles
(django-ratelimit's RATELIMIT_IP_META_KEY) and /metrics.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

# What django-ratelimit counts when no address can be told (a Unix-socket peer).
UNKNOWN = "0.0.0.0"  # noqa: S104 - a bucket name, nothing binds to it


def resolve(peer: str | None, forwarded_for: str) -> str | None:
    """The client IP from the connection's peer and its X-Forwarded-For values (comma-joined)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        addresses = [a.strip() for a in forwarded_for.split(",") if a.strip()]
        if len(addresses) >= hops and _is_ip(addresses[-hops]):
            return _canonical(addresses[-hops])
    if peer and _is_ip(peer):
        return _canonical(peer)
    return None


def scope_client_ip(scope: dict[str, Any]) -> str | None:
    """For an ASGI scope (the WebSocket handshake)."""
    client = scope.get("client")
    forwarded = ",".join(
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"x-forwarded-for"
    )
    return resolve(str(client[0]) if client else None, forwarded)


def request_client_ip(request: HttpRequest) -> str | None:
    """For a Django request (ASGI joins repeated X-Forwarded-For headers with commas)."""
    return resolve(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def ratelimit_ip(request: HttpRequest) -> str:
    """django-ratelimit's "ip" key (RATELIMIT_IP_META_KEY): the same address, never empty."""
    return request_client_ip(request) or UNKNOWN


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _canonical(value: str) -> str:
    # "::FFFF:1.2.3.4" and "0:0::1" are one address each, one bucket each.
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
