"""Helpers for the security tests: visitor sockets from a given IP and Origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

# The browser tests' fixtures (Chromium, a daphne with the fake model, `site`), for
# the security tests that need a real browser (links as rendered, CSP).
from tests.browser.conftest import (  # noqa: F401
    browser,
    chromium_path,
    model,
    server,
    server_env,
    server_overrides,
    site,
)
from tests.factories import SITE_HOST, VisitorSocket, new_client_id


async def open_socket(
    *, ip: str | None = None, origin: bytes | None = b"http://testserver", headers: Any = ()
) -> tuple[WebsocketCommunicator, bool, int | None]:
    """A raw visitor WebSocket handshake; (communicator, accepted, close code)."""
    from tatartours.asgi import application

    all_headers = [
        SITE_HOST,
        *([(b"origin", origin)] if origin is not None else []),
        *headers,
    ]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=all_headers)
    if ip is not None:
        communicator.scope["client"] = (ip, 40000)
    accepted, code = await communicator.connect(timeout=10)
    return communicator, accepted, code


@pytest.fixture
async def visitor_from() -> AsyncIterator[Any]:
    """Registered visitor sockets from a given client IP; all closed after the test."""
    sockets: list[VisitorSocket] = []

    async def open_visitor(ip: str | None = None, **register: Any) -> VisitorSocket:
        communicator, accepted, _ = await open_socket(ip=ip)
        assert accepted, "visitor socket refused"
        socket = VisitorSocket(communicator)
        sockets.append(socket)
        await socket.register(**register)
        return socket

    yield open_visitor
    for socket in sockets:
        await socket.close()


async def send_and_settle(
    socket: VisitorSocket,
    text: str,
    client_id: str | None = None,
    timeout: float = 10,
    **extra: Any,
) -> dict[str, Any]:
    """Send a message; the `message_ack` or `error` about it (AI frames skipped)."""
    client_id = client_id or new_client_id()
    await socket.say(text, client_id, **extra)
    while True:
        frame = await socket.receive(timeout)
        if frame["type"] in {"message_ack", "error"} and frame.get("client_id") == client_id:
            return frame
