"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Run with daphne and the contract's 64 KiB frame limit, e.g.
``daphne --websocket-max-message-size 65536 tatartours.asgi:application``.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from tatartours import daphne_compat  # noqa: E402

# The contract's close codes 1003/1009/1013 must reach clients through daphne.
daphne_compat.install()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from tatartours.routing import websocket_urlpatterns  # noqa: E402
from tatartours.ws_auth import SessionUserMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SessionUserMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
