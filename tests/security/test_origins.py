"""Cross-site WebSocket hijacking: only the site's own pages (and the widget's
configured hosts) may open the sockets; a foreign, missing or "null" Origin
is refused before any frame is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tatartours.origins import site_origins
from tests.security.conftest import open_socket
from tests.servers import ServerProcess, start_daphne

pytestmark = pytest.mark.django_db(transaction=True)

FOREIGN = [
    b"https://evil.example",
    b"http://testserver.evil.example",
    b"http://evil-testserver",
    b"null",
    b"file://",
    b"",
    b"not a url",
]


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_origin_cannot_open_the_visitor_socket(origin):
    communicator, accepted, _ = await open_socket(origin=origin)
    assert not accepted
    await communicator.disconnect()


async def test_a_missing_origin_cannot_open_the_visitor_socket():
    communicator, accepted, _ = await open_socket(origin=None)
    assert not accepted
    await communicator.disconnect()


async def test_the_sites_own_origin_opens_it():
    communicator, accepted, _ = await open_socket(origin=b"http://testserver")
    assert accepted
    await communicator.disconnect()


def test_a_wildcard_allowed_host_does_not_open_the_sockets_to_every_page(settings):
    settings.ALLOWED_HOSTS = ["*", "tours.example"]
    assert site_origins() == ["tours.example"]


# --- through a real daphne --------------------------------------------------


@pytest.fixture(scope="module")
def daphne(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ServerProcess]:
    with django_db_blocker.unblock():
        server = start_daphne(
            ALLOWED_HOSTS="127.0.0.1,localhost,tours.example",
            WIDGET_ALLOWED_ORIGINS="partner.example",
        )
    yield server
    server.stop()


async def _handshake(server: ServerProcess, path: str, origin: str | None) -> int:
    """101 if the socket opened, else the HTTP status of the refusal."""
    try:
        async with connect(
            f"{server.ws_url}{path}",
            origin=Origin(origin) if origin is not None else None,
            open_timeout=10,
        ):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


@pytest.mark.server
@pytest.mark.parametrize("origin", ["https://evil.example", "null", None])
@pytest.mark.parametrize("path", ["/ws/chat/", "/ws/support/"])
async def test_daphne_refuses_foreign_missing_and_null_origins(daphne, path, origin):
    assert await _handshake(daphne, path, origin) == 403


@pytest.mark.server
async def test_the_widgets_hosts_may_open_the_visitor_socket_only(daphne):
    assert await _handshake(daphne, "/ws/chat/", "https://partner.example") == 101
    # The operator socket is for the site's own dashboard only.
    assert await _handshake(daphne, "/ws/support/", "https://partner.example") == 403
    assert await _handshake(daphne, "/ws/chat/", "https://tours.example") == 101
