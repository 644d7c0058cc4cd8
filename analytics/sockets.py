"""Open-socket accounting for the WebSocket consumers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from analytics.prometheus import SOCKETS_OPEN, SOCKETS_OPENED

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def socket_open(consumer: str) -> Iterator[None]:
    """Counts a socket as open for the life of its consumer instance.

    Wraps the consumer's whole ASGI call, so the gauge goes down however the
    socket ends (close, disconnect, cancellation, crash).
    """
    counted = False
    try:
        SOCKETS_OPENED.labels(consumer=consumer).inc()
        SOCKETS_OPEN.labels(consumer=consumer).inc()
        counted = True
    except Exception:
        logger.warning("could not count an open socket", exc_info=True)
    try:
        yield
    finally:
        if counted:
            SOCKETS_OPEN.labels(consumer=consumer).dec()
