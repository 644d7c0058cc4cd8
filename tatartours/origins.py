"""Which pages may open our WebSockets (cross-site WebSocket hijacking guard).

Browsers send Origin on every WebSocket handshake; a page on another site
must not drive a visitor's chat with the visitor's cookies, nor an
operator's. A missing or "null" Origin is refused too.
"""

from __future__ import annotations

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


def site_origins() -> list[str]:
    """The site's own hosts. A wildcard ALLOWED_HOSTS ("*") means "any Host
    header", not "any page may drive our sockets": it is left out, so such a
    deployment must list the pages' hosts in WIDGET_ALLOWED_ORIGINS."""
    return [host for host in settings.ALLOWED_HOSTS if host != "*"]


def widget_origins() -> list[str]:
    """The site's own hosts plus the hosts allowed to embed the widget."""
    return site_origins() + list(settings.WIDGET_ALLOWED_ORIGINS)


def site_only(app: Any) -> OriginValidator:
    return OriginValidator(app, site_origins())


def site_or_widget_hosts(app: Any) -> OriginValidator:
    return OriginValidator(app, widget_origins())
