"""Registrations are limited per socket and per IP, and a socket releases what it held
(issue 15, item 3): no unlimited sessions on one socket, no ghost queue entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.guards import CLOSE_RATE_LIMITED
from chat.models import ChatSession
from support import actions
from support.models import SupportRequest
from tests.factories import SITE_HOST, VisitorSocket

pytestmark = pytest.mark.django_db(transaction=True)


async def _socket_from(ip: str) -> VisitorSocket:
    from channels.testing import WebsocketCommunicator

    from tatartours.asgi import application

    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[SITE_HOST, (b"origin", b"http://testserver")]
    )
    communicator.scope["client"] = (ip, 40000)
    accepted, _code = await communicator.connect(timeout=10)
    assert accepted
    return VisitorSocket(communicator)


async def _refused_with_4429(socket: VisitorSocket) -> dict:
    await socket.send({"type": "register"})
    frame = await socket.expect("error")
    closed = await socket.communicator.receive_output(5)
    assert closed == {"type": "websocket.close", "code": CLOSE_RATE_LIMITED}
    return frame


async def test_one_socket_cannot_open_session_after_session(settings):
    settings.CHAT_REGISTERS_PER_SOCKET = 3
    socket = await VisitorSocket.open()
    for _ in range(3):
        await socket.register()
    frame = await _refused_with_4429(socket)
    assert frame["code"] == "rate_limited"
    assert frame["limit"] == "registrations"
    assert frame["message"]
    assert await ChatSession.objects.acount() == 3


async def test_registrations_from_one_ip_are_limited_whatever_the_token(settings):
    settings.CHAT_REGISTERS_PER_SOCKET = 0
    settings.CHAT_REGISTERS_PER_IP_PER_MINUTE = 4
    sockets = [await _socket_from("203.0.113.60") for _ in range(3)]
    await sockets[0].register()
    await sockets[1].register(token="forged-" + "x" * 40)
    await sockets[2].register()
    await sockets[2].register(token=sockets[0].token)
    frame = await _refused_with_4429(sockets[1])
    assert (frame["code"], frame["limit"]) == ("rate_limited", "registrations")
    assert frame["retry_after"] >= 1
    # Another address is not affected.
    other = await _socket_from("198.51.100.60")
    await other.register()
    for socket in [*sockets, other]:
        await socket.close()


async def test_registering_again_releases_the_previous_sessions_queue_entry(settings, operator):
    """Each session left behind on re-register is abandoned by the sweep like a closed tab."""
    settings.CHAT_REGISTERS_PER_SOCKET = 0
    await operator()
    socket = await VisitorSocket.open()
    sessions = []
    for _ in range(4):
        await socket.register()
        await socket.send({"type": "request_support", "reason": "Вопрос"})
        await socket.expect("support_pending")
        sessions.append(socket.session_id)
    await socket.close()
    later = timezone.now() + timedelta(seconds=settings.SUPPORT_VISITOR_GONE_SECONDS + 1)
    result = await actions.sweep(later)
    assert sorted(result.abandoned) == sorted(sessions)
    assert not await SupportRequest.objects.filter(status=SupportRequest.Status.WAITING).aexists()


async def test_a_visitor_who_reregisters_the_same_session_keeps_its_place(settings, operator):
    await operator()
    socket = await VisitorSocket.open()
    await socket.register()
    await socket.send({"type": "request_support", "reason": "Вопрос"})
    await socket.expect("support_pending")
    await socket.register(token=socket.token)
    await socket.expect("support_pending")
    later = timezone.now() + timedelta(seconds=settings.SUPPORT_VISITOR_GONE_SECONDS + 1)
    result = await actions.sweep(later)
    assert result.abandoned == []
    await socket.close()
