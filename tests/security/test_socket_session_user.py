"""Who a socket belongs to: the session cookie, checked as on the site (tatartours/ws_auth)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from chat.models import ChatSession
from tests.factories import VisitorSocket, make_site_user, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def visitor_with_cookie(cookie: str) -> VisitorSocket:
    header = f"{settings.SESSION_COOKIE_NAME}={cookie}; csrftoken=abc".encode()
    return await VisitorSocket.open(headers=[(b"cookie", header)])


async def session_owner(socket: VisitorSocket) -> int | None:
    session = await ChatSession.objects.aget(public_id=socket.session_id)
    return session.user_id


async def test_a_logged_in_visitors_chat_is_linked_to_their_account():
    user = await database_sync_to_async(make_site_user)()
    socket = await visitor_with_cookie(await database_sync_to_async(session_cookie)(user))
    await socket.register()
    assert await session_owner(socket) == user.pk
    await socket.close()


async def test_an_unknown_session_cookie_is_an_anonymous_visitor():
    socket = await visitor_with_cookie("no-such-session-key-0123456789abcdef")
    await socket.register()
    assert await session_owner(socket) is None
    await socket.close()


async def test_a_session_from_before_a_password_change_is_anonymous():
    user = await database_sync_to_async(make_site_user)()
    cookie = await database_sync_to_async(session_cookie)(user)
    user.set_password("a-new-password-after-a-leak")
    await user.asave()
    socket = await visitor_with_cookie(cookie)
    await socket.register()
    assert await session_owner(socket) is None
    await socket.close()
