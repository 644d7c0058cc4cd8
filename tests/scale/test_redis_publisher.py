"""Pipelined PUBLISH (tatartours/redis_publisher.py): order, one connection, retries, failures.

Against real Redis: the shared one for ordering and connection count, a
private one per test for restarts. Received messages are read from a real
subscriber; nothing is inferred from the publisher's own state.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from tatartours.redis_publisher import Publisher
from tests.faults.infra import RedisServer


def make_publisher(url: str, retries: int = 3, **options: object) -> Publisher:
    pool = aioredis.ConnectionPool.from_url(url, socket_connect_timeout=1, **options)
    connection: Connection = pool.make_connection()
    return Publisher(connection, Retry(ConstantBackoff(0.05), retries))


@pytest.fixture
async def subscriber() -> AsyncIterator[tuple[aioredis.client.PubSub, bytes]]:
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    channel = f"pubtest:{uuid.uuid4().hex}".encode()
    await pubsub.subscribe(channel)
    assert (await pubsub.get_message(timeout=5))["type"] == "subscribe"
    yield pubsub, channel
    await pubsub.aclose()
    await client.aclose()


async def received(pubsub: aioredis.client.PubSub, count: int) -> list[bytes]:
    got: list[bytes] = []
    while len(got) < count:
        message = await pubsub.get_message(timeout=5)
        assert message is not None, f"only {len(got)} of {count} messages arrived"
        if message["type"] == "message":
            got.append(message["data"])
    return got


async def test_concurrent_publishes_arrive_once_each_in_the_order_they_were_made(
    subscriber,
) -> None:
    pubsub, channel = subscriber
    publisher = make_publisher(settings.REDIS_URL)
    counts = await asyncio.gather(
        *(publisher.publish(channel, f"m{n}".encode()) for n in range(300))
    )
    assert counts == [1] * 300  # each caller is told Redis's subscriber count
    assert await received(pubsub, 300) == [f"m{n}".encode() for n in range(300)]
    await publisher.aclose()


async def test_the_publishes_of_one_loop_share_one_connection(subscriber) -> None:
    pubsub, channel = subscriber
    name = f"pubtest-{uuid.uuid4().hex[:12]}"
    publisher = make_publisher(settings.REDIS_URL, client_name=name)
    await asyncio.gather(*(publisher.publish(channel, b"x") for _ in range(200)))
    admin = aioredis.Redis.from_url(settings.REDIS_URL)
    clients = [c for c in await admin.client_list() if c.get("name") == name]
    assert len(clients) == 1
    await publisher.aclose()
    await admin.aclose()
    await received(pubsub, 200)


async def test_a_caller_that_gives_up_does_not_hold_up_the_others(subscriber) -> None:
    pubsub, channel = subscriber
    publisher = make_publisher(settings.REDIS_URL)
    abandoned = asyncio.ensure_future(publisher.publish(channel, b"abandoned"))
    abandoned.cancel()
    assert await publisher.publish(channel, b"kept") == 1
    # "kept" is the later frame: "abandoned", had it gone out, would have come before it.
    assert await received(pubsub, 1) == [b"kept"]
    await publisher.aclose()


async def test_a_redis_restart_between_publishes_is_retried_on_a_fresh_connection() -> None:
    with RedisServer() as server:
        listener = aioredis.Redis.from_url(server.url)
        publisher = make_publisher(server.url, retries=100)
        assert await publisher.publish(b"restart", b"before") == 0

        server.kill()
        pending = asyncio.ensure_future(publisher.publish(b"restart", b"during"))
        await asyncio.sleep(0.2)  # the first tries fail while it is down
        assert not pending.done()
        server.start()
        await listener.aclose()
        listener = aioredis.Redis.from_url(server.url)
        pubsub = listener.pubsub()
        await pubsub.subscribe(b"restart")
        assert (await pubsub.get_message(timeout=5))["type"] == "subscribe"
        # Published once Redis was back (its subscriber count may be 0 or 1 by then).
        assert await asyncio.wait_for(pending, 10) in (0, 1)
        assert await publisher.publish(b"restart", b"after") == 1
        got = await received(pubsub, 1)
        if got == [b"during"]:  # published after the SUBSCRIBE: it comes first
            got = await received(pubsub, 1)
        assert got == [b"after"]
        await pubsub.aclose()
        await listener.aclose()
        await publisher.aclose()


async def test_told_redis_went_away_the_next_publish_does_not_fail_on_the_dead_connection(
    caplog,
) -> None:
    with RedisServer() as server:
        publisher = make_publisher(server.url, retries=0)  # a failed write would raise
        assert await publisher.publish(b"restart", b"before") == 0
        server.kill()
        server.start()
        publisher.connection_lost()  # the layer's subscriber link saw Redis go
        assert await publisher.publish(b"restart", b"after") == 0
        assert "PUBLISH interrupted" not in caplog.text
        assert "PUBLISH failed" not in caplog.text
        await publisher.aclose()


async def test_out_of_retries_every_waiting_caller_gets_the_error_then_it_recovers() -> None:
    with RedisServer() as server:
        publisher = make_publisher(server.url, retries=2)
        assert await publisher.publish(b"down", b"first") == 0
        server.kill()
        results = await asyncio.gather(
            *(publisher.publish(b"down", b"lost") for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(result, RedisConnectionError) for result in results)
        server.start()
        assert await asyncio.wait_for(publisher.publish(b"down", b"back"), 10) == 0
        await publisher.aclose()


async def test_closing_fails_the_waiting_callers_and_refuses_new_ones() -> None:
    with RedisServer() as server:
        publisher = make_publisher(server.url, retries=50)
        server.kill()
        waiting = asyncio.ensure_future(publisher.publish(b"closed", b"x"))
        await asyncio.sleep(0.1)
        await publisher.aclose()
        with pytest.raises(RedisConnectionError):
            await waiting
        with pytest.raises(RedisConnectionError):
            await publisher.publish(b"closed", b"y")
