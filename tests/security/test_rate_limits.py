"""Visitor messages per minute, per chat session and per client IP, in Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis as redis_sync
from django.conf import settings as django_settings

from chat import ratelimit
from chat.models import ChatMessage
from chat.ratelimit import Window
from tests.factories import new_client_id
from tests.security.conftest import send_and_settle

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 20  # the contract's number, and the setting's default


def test_the_default_limit_is_the_contracts():
    assert django_settings.CHAT_RATE_LIMIT_PER_MINUTE == LIMIT


async def test_the_21st_message_in_a_minute_is_refused_and_not_stored(visitor_from):
    socket = await visitor_from()
    for n in range(LIMIT):
        frame = await send_and_settle(socket, f"Вопрос номер {n}")
        assert frame["type"] == "message_ack", frame

    refused_id = new_client_id()
    refused = await send_and_settle(socket, "Ещё один вопрос", refused_id)

    assert refused["code"] == "rate_limited"
    assert refused["client_id"] == refused_id
    assert isinstance(refused["retry_after"], int)
    assert 1 <= refused["retry_after"] <= 60
    assert refused["message"]  # a human sentence, in Russian
    assert not await ChatMessage.objects.filter(client_id=refused_id).aexists()
    assert await ChatMessage.objects.filter(author="visitor").acount() == LIMIT
    # The connection is kept: the socket still answers.
    await socket.send({"type": "nonsense"})
    frame, _ = await socket.until("error")
    assert frame["code"] == "unknown_type"


async def test_the_limit_is_per_client_ip_across_sessions(visitor_from):
    first = await visitor_from(ip="203.0.113.7")
    second = await visitor_from(ip="203.0.113.7")
    elsewhere = await visitor_from(ip="198.51.100.9")
    for n in range(LIMIT // 2):
        assert (await send_and_settle(first, f"Первый {n}"))["type"] == "message_ack"
        assert (await send_and_settle(second, f"Второй {n}"))["type"] == "message_ack"

    refused = await send_and_settle(second, "Второй ещё")
    assert refused["code"] == "rate_limited"
    # Another IP, and so another visitor, is not affected.
    assert (await send_and_settle(elsewhere, "Третий"))["type"] == "message_ack"


async def test_a_resend_of_an_acked_message_is_not_counted_twice(visitor_from):
    socket = await visitor_from()
    acks = [await send_and_settle(socket, f"Вопрос {n}") for n in range(LIMIT)]
    # Over the limit now; a resend of an acknowledged message still gets its ack.
    first = acks[0]
    again = await send_and_settle(socket, "Вопрос 0", first["client_id"])
    assert again["type"] == "message_ack"
    assert again["id"] == first["id"]
    assert await ChatMessage.objects.filter(author="visitor").acount() == LIMIT


async def test_a_resend_after_its_window_passed_is_still_acked(visitor_from):
    socket = await visitor_from()
    acks = [await send_and_settle(socket, f"Вопрос {n}") for n in range(LIMIT)]
    # The first message's entry ages out of the window (as after a long
    # disconnection) while the window is full of newer ones: the limiter
    # refuses, the consumer finds the message stored and acknowledges it.
    window_key = ratelimit.key("msg", "session", socket.session_id)
    client = redis_sync.Redis.from_url(django_settings.REDIS_URL)
    aged_out = f"{socket.session_id}:{acks[0]['client_id']}#1"
    newest_score = client.zscore(window_key, f"{socket.session_id}:{acks[-1]['client_id']}#1")
    assert newest_score is not None
    assert client.zrem(window_key, aged_out) == 1
    client.zadd(window_key, {"a-newer-message#1": newest_score})
    client.close()

    again = await send_and_settle(socket, "Вопрос 0", acks[0]["client_id"])
    assert again["type"] == "message_ack"
    assert again["id"] == acks[0]["id"]


async def test_zero_means_unlimited(visitor_from, settings):
    settings.CHAT_RATE_LIMIT_PER_MINUTE = 0
    socket = await visitor_from(ip="203.0.113.8")
    for n in range(LIMIT + 5):
        assert (await send_and_settle(socket, f"Нагрузка {n}"))["type"] == "message_ack"


async def test_the_window_admits_exactly_the_limit_under_concurrency():
    window = Window("messages", ratelimit.key("test", uuid.uuid4().hex), LIMIT, 60)
    verdicts = await asyncio.gather(*(ratelimit.hit([window], f"m{n}") for n in range(100)))
    allowed = [v for v in verdicts if v.allowed]
    assert len(allowed) == LIMIT
    assert all(1 <= v.retry_after <= 60 for v in verdicts if not v.allowed)


async def test_an_attempt_refused_by_one_window_uses_up_none_of_the_others():
    roomy = Window("messages", ratelimit.key("test", "roomy"), 10, 60)
    full = Window("messages", ratelimit.key("test", "full"), 1, 60)
    assert (await ratelimit.hit([full], "first")).allowed
    refused = await ratelimit.hit([roomy, full], "second")
    assert not refused.allowed
    assert refused.window == full
    client = redis_sync.Redis.from_url(django_settings.REDIS_URL)
    assert client.zcard(roomy.key) == 0
    client.close()
