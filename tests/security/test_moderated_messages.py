"""Refused text never reaches storage, the AI or an operator."""

from __future__ import annotations

import pytest

from chat.models import ChatMessage
from tests.security.conftest import send_and_settle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("text", ["Вы все тут мудаки", "xyйня, а не сервис", "f u c k you"])
async def test_an_obscene_message_is_moderated_not_stored_not_answered(
    visitor_from, fake_openrouter, text
):
    socket = await visitor_from()
    refused = await send_and_settle(socket, text)
    assert refused["code"] == "moderated"
    assert refused["message"]
    assert not await ChatMessage.objects.aexists()
    # The AI was not asked, and nothing else came: no typing, no answer.
    assert await socket.nothing_more(timeout=1)
    assert fake_openrouter.requests == []
    # The socket stays usable, and a clean message is answered as usual.
    ack = await send_and_settle(socket, "Извините. Сколько стоит тур?")
    assert ack["type"] == "message_ack"
    response, _ = await socket.until("ai_response")
    assert response["reply_to"] == ack["id"]
    assert all(text not in str(r.json) for r in fake_openrouter.requests)


async def test_moderated_messages_use_up_no_rate_limit(visitor_from, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 3
    socket = await visitor_from()
    for _ in range(5):
        assert (await send_and_settle(socket, "сука"))["code"] == "moderated"
    for n in range(3):
        assert (await send_and_settle(socket, f"Вопрос {n}"))["type"] == "message_ack"


async def test_an_obscene_reason_for_an_operator_is_refused(visitor_from):
    socket = await visitor_from()
    await socket.send({"type": "request_support", "reason": "позовите человека, блять"})
    frame, _ = await socket.until("error")
    assert frame["code"] == "moderated"


async def test_an_obscene_rating_comment_is_refused(visitor_from):
    socket = await visitor_from()
    await socket.send({"type": "rate", "score": 1, "comment": "пиздец"})
    frame, _ = await socket.until("error")
    assert frame["code"] == "moderated"
