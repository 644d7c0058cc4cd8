"""The visitor socket in AI mode: register, message, ack, AI answer."""

from __future__ import annotations

import pytest

from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db(transaction=True)


async def test_new_visitor_gets_a_session_and_a_token(visitor):
    socket = await visitor()
    assert socket.registered["status"] == "ai"
    assert socket.registered["messages"] == []
    assert len(socket.token) >= 40
    assert socket.token not in socket.session_id


async def test_message_is_acked_then_answered_by_the_ai(visitor):
    socket = await visitor()
    client_id = await socket.say("Какие туры есть в июне?")
    ack = await socket.expect("message_ack")
    assert ack["client_id"] == client_id
    typing_on = await socket.expect("ai_typing")
    assert typing_on["typing"] is True
    response, _ = await socket.until("ai_response")
    assert response["reply_to"] == ack["id"]
    assert response["id"] > ack["id"]
    typing_off, _ = await socket.until("ai_typing")
    assert typing_off["typing"] is False
    stored = [m.author async for m in ChatMessage.objects.order_by("id")]
    assert stored == ["visitor", "ai"]
    assert await ChatSession.objects.acount() == 1
