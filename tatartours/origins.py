"""Which pages may open our WebSockets (cross-site WebSocket hijacking guard).

Browsers send Origin on every WebSocket handshake; a page on another site
must not drive a visitor's chat with the visitor's cookies, nor an
operator's. An origin is compared whole, scheme, host and port, as browsers
define it:

- the site's own: the Origin equals the scheme and Host of the handshake
  itself (https when it came over TLS or through a proxy that says so with
  SECURE_PROXY_SSL_HEADER), and that Host is one of ALLOWED_HOSTS;
- for the visitor socket and the widget's HTTP endpoints also any of
  WIDGET_ALLOWED_ORIGINS (full origins, "https://partner.example").

So `http://127.0.0.1:9999`, `https://127.0.0.1` and `chrome-extension://…`
are foreign to a site served on http://127.0.0.1:8000. A missing or "null"
Origin is refused too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str | None:
    """ "scheme://host[:port]" with case folded and a default port dropped; None if not an
    http(s) origin (a path, credentials, another scheme, a bad port)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def widget_origins() -> frozenset[str]:
    """WIDGET_ALLOWED_ORIGINS, normalised (settings refused any that is not an origin)."""
    return frozenset(
        origin for entry in settings.WIDGET_ALLOWED_ORIGINS if (origin := normalise_origin(entry))
    )


def own_origin(host: str, *, secure: bool) -> str | None:
    """The origin of a request to `host` (its Host header), if that host is one of ours."""
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return normalise_origin(f"{'https' if secure else 'http'}://{host}")


def origin_allowed(origin: str | None, own: str | None, *, widget: bool) -> bool:
    if not origin or origin == "null":
        return False
    candidate = normalise_origin(origin)
    if candidate is None:
        return False
    return candidate == own or (widget and candidate in widget_origins())


def _scope_is_secure(scope: dict[str, Any], headers: dict[bytes, bytes]) -> bool:
    if scope.get("scheme") in ("wss", "https"):
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not proxy_header:
        return False
    meta_name, secure_value = proxy_header
    name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
    value = headers.get(name, b"").decode("latin-1").split(",")[0].strip()
    return bool(value == secure_value)


def scope_origin_allowed(scope: dict[str, Any], *, widget: bool) -> bool:
    """The handshake's Origin is the site's own or (with `widget`) a widget host's."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", ()):
        headers.setdefault(name.lower(), value)
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    own = own_origin(host, secure=_scope_is_secure(scope, headers)) if host else None
    return origin_allowed(origin, own, widget=widget)


def request_origin_allowed(request: HttpRequest) -> bool:
    """The same for an HTTP request (the widget's CSRF-exempt JSON endpoints)."""
    own = own_origin(request.get_host(), secure=request.is_secure())
    return origin_allowed(request.headers.get("Origin"), own, widget=True)


class OriginCheck:
    """ASGI middleware: refuse the handshake (HTTP 403) unless the Origin is allowed."""

    def __init__(self, application: Any, *, widget: bool) -> None:
        self.application = application
        self.widget = widget

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope_origin_allowed(scope, widget=self.widget):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


def site_only(app: Any) -> OriginCheck:
    return OriginCheck(app, widget=False)


def site_or_widget_hosts(app: Any) -> OriginCheck:
    return OriginCheck(app, widget=True)
