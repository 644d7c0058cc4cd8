"""The operator socket: only operators, only their own chats, validated input."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.models import ChatMessage
from tests.factories import OperatorSocket, make_site_user, make_staff
from tests.support.flows import in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("persona", "code"),
    [(None, 4401), (make_site_user, 4403), (make_staff, 4403)],
    ids=["anonymous", "site-user", "staff-without-permission"],
)
async def test_only_operators_get_any_data(persona, code):
    from tests.factories import session_cookie

    cookie = None
    if persona is not None:
        user = await database_sync_to_async(persona)()
        cookie = await database_sync_to_async(session_cookie)(user)
    socket = await OperatorSocket.open(cookie=cookie)
    closed = await socket.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": code}  # no frame before the close
    await socket.close()


async def test_an_operator_cannot_write_into_a_chat_they_do_not_hold(visitor, operator):
    guest, alia = await in_conversation(visitor, operator, name="Алия")
    stranger = await queued_visitor(visitor)  # waiting, held by nobody
    client_id = await alia.say(stranger.session_id, "Я не ваш оператор")
    error, _ = await alia.until("error")
    assert error["code"] in {"forbidden", "not_found"}
    assert not await ChatMessage.objects.filter(client_id=client_id).aexists()
    # And another operator cannot write into Alia's chat.
    bulat = await operator(name="Булат")
    other_id = await bulat.say(guest.session_id, "Перехватываю")
    error, _ = await bulat.until("error")
    assert error["code"] in {"forbidden", "not_found"}
    assert not await ChatMessage.objects.filter(client_id=other_id).aexists()


@pytest.mark.parametrize(
    ("text", "code"),
    [("x" * 2001, "too_long"), ("NUL\u0000", "invalid"), ("   ", "invalid"), ("\ud800", "invalid")],
)
async def test_operator_messages_are_validated(visitor, operator, text, code):
    guest, alia = await in_conversation(visitor, operator)
    client_id = await alia.say(guest.session_id, text)
    error, _ = await alia.until("error")
    assert error["code"] == code
    assert not await ChatMessage.objects.filter(client_id=client_id).aexists()
