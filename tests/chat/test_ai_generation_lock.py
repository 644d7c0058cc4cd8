"""One AI generation per chat, and a dead holder never silences the chat."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from chat.models import ChatMessage

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_lock_left_by_a_killed_process_delays_the_answer_but_does_not_drop_it(visitor):
    socket = await visitor()
    # A process killed mid-answer leaves its lock behind until it expires.
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    await client.set(f"tatartours:ai-lock:{socket.session_id}", "killed-process", px=1500)
    await client.aclose()

    await socket.say("Где место сбора перед экскурсией?")
    ack = await socket.expect("message_ack")
    response, _ = await socket.until("ai_response", timeout=15)
    assert response["reply_to"] == ack["id"]


async def test_two_tabs_asking_at_once_get_every_question_answered_once(visitor):
    tab1 = await visitor()
    tab2 = await visitor(token=tab1.token)
    await tab1.say("Первый вопрос из первой вкладки")
    await tab2.say("Второй вопрос из второй вкладки")
    first, _ = await tab1.until("message_ack")
    second, _ = await tab2.until("message_ack")
    # Sent at once from two sockets, either may be stored last: the newest is the one by id.
    newest = max(first["id"], second["id"])

    # Whichever tab generates, the newest question is answered in the end.
    while True:
        response, _ = await tab2.until("ai_response", timeout=15)
        if response["reply_to"] == newest:
            break
    answers = [m async for m in ChatMessage.objects.filter(author="ai").order_by("id")]
    # No question got two answers.
    assert len({a.reply_to_id for a in answers}) == len(answers)
    assert answers[-1].reply_to_id == newest
