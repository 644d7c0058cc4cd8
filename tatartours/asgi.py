"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Run with daphne as the project configures it (tatartours/daphne_server.py: the
contract's close codes) and the contract's 64 KiB frame limit, e.g.
``python -m tatartours.daphne_server --websocket-max-message-size 65536
tatartours.asgi:application`` (any other ASGI server serves it as it is).
"""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tatartours.settings")
# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from tatartours.routing import websocket_urlpatterns  # noqa: E402
from tatartours.ws_auth import SessionUserMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SessionUserMiddleware(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded by now (Django, the apps, their modules: ~180,000 objects)
# lives as long as the process. Left to the collector, every full collection
# walks all of it: 68-77 ms each in a relay run, three per process, every
# socket of the process stalled meanwhile (the relay's p99, docs/benchmarks.md).
# Frozen (Python's permanent generation), collections walk only what came
# after; the startup's own garbage is collected first.
gc.collect()
gc.freeze()
