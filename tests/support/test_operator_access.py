"""Who may use the operator socket and the dashboard."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.factories import (
    OperatorSocket,
    make_operator,
    make_site_user,
    make_staff,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def close_code_for(user=None) -> tuple[int, bool]:
    """The close code the operator socket answers with, and whether any data came first."""
    cookie = await database_sync_to_async(session_cookie)(user) if user is not None else None
    socket = await OperatorSocket.open(cookie=cookie)
    output = await socket.communicator.receive_output(timeout=5)
    # Tell the app the client is gone too, so it ends now rather than being
    # cancelled mid-receive when the test's event loop closes.
    await socket.close()
    return output.get("code", 0), output["type"] != "websocket.close"


async def test_anonymous_users_are_closed_with_4401_before_any_data():
    assert await close_code_for(None) == (4401, False)


async def test_site_users_are_closed_with_4403():
    user = await database_sync_to_async(make_site_user)()
    assert await close_code_for(user) == (4403, False)


async def test_staff_without_the_support_permission_are_closed_with_4403():
    staff = await database_sync_to_async(make_staff)()
    assert await close_code_for(staff) == (4403, False)


async def test_an_operator_who_is_not_staff_any_more_is_closed_with_4403():
    def demoted():
        user = make_operator()
        user.is_staff = False
        user.save()
        return user

    assert await close_code_for(await database_sync_to_async(demoted)()) == (4403, False)


async def test_operators_get_their_state_and_the_queue():
    user = await database_sync_to_async(make_operator)(name="Алия")
    socket = await OperatorSocket.connect_as(user)
    try:
        assert socket.state["operator"] == {"id": user.pk, "name": "Алия"}
        assert socket.state["status"] == "online"
        assert socket.queue["requests"] == []
    finally:
        await socket.close()


async def test_pages_of_other_sites_cannot_open_the_operator_socket():
    from tatartours.asgi import application

    user = await database_sync_to_async(make_operator)()
    cookie = await database_sync_to_async(session_cookie)(user)
    for origin in (b"https://evil.example", b"null"):
        communicator = WebsocketCommunicator(
            application,
            "/ws/support/",
            headers=[(b"origin", origin), (b"cookie", f"sessionid={cookie}".encode())],
        )
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()


async def test_unknown_and_visitor_only_frames_are_refused(operator):
    alia = await operator()
    await alia.send({"type": "register"})
    refused, _ = await alia.until("error")
    assert refused["code"] == "unknown_type"
    await alia.send({"type": "join_support_chat", "session_id": "not-a-uuid"})
    refused, _ = await alia.until("error")
    assert refused["code"] == "invalid"
