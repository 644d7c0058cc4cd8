"""Cross-site WebSocket hijacking: only the site's own pages (and the widget's
configured origins) may open the sockets; a foreign, missing or "null" Origin
is refused before any frame is read. Origins are compared whole: scheme,
host and port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tatartours.origins import origin_allowed, own_origin
from tests.security.conftest import open_socket
from tests.security.test_deploy import manage
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
    # Our host, but another scheme or port: another origin.
    b"https://testserver",
    b"http://testserver:9999",
    b"chrome-extension://testserver",
    b"ws://testserver",
    b"http://user@testserver",
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


@pytest.mark.parametrize("origin", [b"http://testserver", b"HTTP://TestServer:80"])
async def test_the_sites_own_origin_opens_it(origin):
    communicator, accepted, _ = await open_socket(origin=origin)
    assert accepted
    await communicator.disconnect()


async def test_a_host_outside_allowed_hosts_is_not_the_sites_own(settings):
    settings.ALLOWED_HOSTS = ["tours.example"]
    communicator, accepted, _ = await open_socket(origin=b"http://testserver")
    assert not accepted
    await communicator.disconnect()


def test_a_wildcard_allowed_host_only_ever_means_the_requests_own_origin(settings):
    settings.ALLOWED_HOSTS = ["*"]
    own = own_origin("tours.example", secure=True)
    assert own == "https://tours.example"
    assert origin_allowed("https://tours.example", own, widget=True)
    assert not origin_allowed("https://evil.example", own, widget=True)
    assert not origin_allowed("http://tours.example", own, widget=True)


def test_behind_tls_the_own_origin_is_https(settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["https://partner.example:8443"]
    own = own_origin("tours.example", secure=True)
    assert origin_allowed("https://partner.example:8443", own, widget=True)
    assert not origin_allowed("https://partner.example", own, widget=True)
    assert not origin_allowed("https://partner.example:8443", own, widget=False)


def test_a_bare_host_in_widget_allowed_origins_stops_the_start():
    """A host alone says neither scheme nor port: refused rather than guessed."""
    result = manage("check", WIDGET_ALLOWED_ORIGINS="https://ok.example,partner.example")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "'partner.example'" in result.stderr


# --- through a real daphne --------------------------------------------------


@pytest.fixture(scope="module")
def daphne(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ServerProcess]:
    with django_db_blocker.unblock():
        server = start_daphne(
            ALLOWED_HOSTS="127.0.0.1,localhost,tours.example",
            WIDGET_ALLOWED_ORIGINS="https://partner.example",
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
@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", None, "http://127.0.0.1", "https://tours.example"]
)
@pytest.mark.parametrize("path", ["/ws/chat/", "/ws/support/"])
async def test_daphne_refuses_foreign_missing_and_null_origins(daphne, path, origin):
    assert await _handshake(daphne, path, origin) == 403


@pytest.mark.server
async def test_daphne_compares_the_port_with_the_pages_own(daphne):
    own = f"http://127.0.0.1:{daphne.port}"
    assert await _handshake(daphne, "/ws/chat/", own) == 101
    assert await _handshake(daphne, "/ws/chat/", f"http://127.0.0.1:{daphne.port + 1}") == 403
    assert await _handshake(daphne, "/ws/chat/", f"https://127.0.0.1:{daphne.port}") == 403


@pytest.mark.server
async def test_the_widgets_origins_may_open_the_visitor_socket_only(daphne):
    assert await _handshake(daphne, "/ws/chat/", "https://partner.example") == 101
    assert await _handshake(daphne, "/ws/chat/", "http://partner.example") == 403
    assert await _handshake(daphne, "/ws/chat/", "https://partner.example:444") == 403
    # The operator socket is for the site's own dashboard only.
    assert await _handshake(daphne, "/ws/support/", "https://partner.example") == 403


def test_the_ticket_form_compares_origins_whole(client, settings):
    settings.WIDGET_ALLOWED_ORIGINS = ["https://partner.example"]
    ticket = '{"name": "Ильдар", "phone": "+7 917 123-45-67", "question": "Перезвоните"}'

    def status(origin: str) -> int:
        response = client.post(
            "/support/offline-ticket/",
            data=ticket,
            content_type="application/json",
            HTTP_ORIGIN=origin,
        )
        return response.status_code

    assert status("http://testserver") == 201
    assert status("https://partner.example") == 201
    assert status("http://testserver:8080") == 403
    assert status("http://partner.example") == 403
