"""One AI generation per chat, and a dead holder never silences the chat."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from django.conf import settings

from chat.ai_reply import LOCK_TTL_MS, generation_lock, lock_key
from chat.models import ChatMessage
from tatartours.redis import get_redis
from tests.faults.infra import TcpProxy
from tests.waiting import eventually

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


async def test_a_round_cancelled_while_taking_the_lock_gives_it_back(settings):
    """The socket closes (its AI task cancelled) with the lock's SET sent but not answered.

    Redis runs the SET; nobody would hold the lock, and the chat's next round
    (the visitor's reconnected tab) would wait LOCK_TTL_MS for it to expire.
    """
    shared = urlsplit(settings.REDIS_URL)
    direct = aioredis.Redis.from_url(settings.REDIS_URL)
    session_id = uuid.uuid4()
    key = lock_key(session_id)
    with TcpProxy(shared.port or 6379) as proxy:
        settings.REDIS_URL = f"redis://127.0.0.1:{proxy.port}{shared.path}"
        await get_redis().ping()  # connected through the proxy before the hold
        proxy.hold_replies()

        async def a_round() -> None:
            async with generation_lock(session_id, "a-socket-that-closes"):
                await asyncio.Event().wait()

        round_task = asyncio.create_task(a_round())
        await eventually(lambda: _held(direct, key), timeout=5.0)  # Redis ran the SET
        round_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await round_task
        assert await direct.pttl(key) > LOCK_TTL_MS - 5000
        proxy.release_replies()

        # Given back once Redis answered, long before it would expire.
        await eventually(lambda: _gone(direct, key), timeout=5.0)
    await direct.aclose()


async def _held(client: aioredis.Redis, key: str) -> bool:
    return bool(await client.exists(key))


async def _gone(client: aioredis.Redis, key: str) -> bool:
    return not await client.exists(key)
