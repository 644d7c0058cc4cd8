"""The pub/sub channel layer (tatartours/pubsub_layer.py) against the Channels layer spec.

Two layer instances stand for two server processes: each has its own id,
its own subscription connection and its own local channels, and they meet
only through Redis (the shared one for the spec, a private one per test
for restarts). "Nothing arrived" is checked by a later frame arriving
first, never by a sleep.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.conf import settings
from redis.exceptions import RedisError

from tatartours.channel_layer import LAYER_LOST
from tatartours.pubsub_layer import PubSubChannelLayer
from tests.faults.infra import RedisServer
from tests.servers import free_port


def make_layer(address: str = settings.REDIS_URL, **config: Any) -> PubSubChannelLayer:
    host = {"address": address, "socket_connect_timeout": 1, **config.pop("host", {})}
    # A prefix of its own per test: the shared Redis may carry other runs' traffic.
    config.setdefault("prefix", f"pstest{uuid.uuid4().hex[:8]}")
    return PubSubChannelLayer(hosts=[host], **config)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[PubSubChannelLayer, PubSubChannelLayer]]:
    prefix = f"pstest{uuid.uuid4().hex[:8]}"
    one, two = make_layer(prefix=prefix), make_layer(prefix=prefix)
    yield one, two
    await one.close()
    await two.close()


async def receive(layer: PubSubChannelLayer, channel: str, timeout: float = 5) -> dict[str, Any]:
    return await asyncio.wait_for(layer.receive(channel), timeout=timeout)


def test_the_project_uses_it_by_default() -> None:
    assert isinstance(get_channel_layer(), PubSubChannelLayer)
    assert get_channel_layer().extensions == ["groups", "flush"]


async def test_send_and_receive_in_one_process_and_across_two(pair) -> None:
    one, two = pair
    here, there = await one.new_channel(), await two.new_channel()
    assert here != there
    await one.send(here, {"type": "local.hello", "n": 1})
    assert await receive(one, here) == {"type": "local.hello", "n": 1}
    # Across processes: through the receiving process's inbox.
    waiting = asyncio.create_task(two.receive(there))
    await two.group_add("warmup", there)  # the link is up and subscribed
    await one.send(there, {"type": "remote.hello", "text": "Сәлам"})
    assert await asyncio.wait_for(waiting, 5) == {"type": "remote.hello", "text": "Сәлам"}


async def test_a_group_across_two_processes_delivers_once_to_every_member(pair) -> None:
    one, two = pair
    a1, a2, b1 = await one.new_channel(), await one.new_channel(), await two.new_channel()
    for layer, channel in ((one, a1), (one, a2), (two, b1)):
        await layer.group_add("chat.x", channel)
    await one.group_send("chat.x", {"type": "chat.event", "n": 1})
    await two.group_send("chat.x", {"type": "chat.event", "n": 2})
    for layer, channel in ((one, a1), (one, a2), (two, b1)):
        got = [(await receive(layer, channel))["n"], (await receive(layer, channel))["n"]]
        assert sorted(got) == [1, 2]
    # Exactly once: the next thing each member gets is a later marker, not a copy.
    await one.group_send("chat.x", {"type": "chat.event", "n": 3})
    for layer, channel in ((one, a1), (one, a2), (two, b1)):
        assert (await receive(layer, channel))["n"] == 3


async def test_group_add_returns_once_a_message_sent_after_it_is_delivered(pair) -> None:
    one, two = pair
    for n in range(20):
        channel = await two.new_channel()
        await two.group_add(f"fresh.{n}", channel)
        await one.group_send(f"fresh.{n}", {"type": "chat.event", "n": n})
        assert (await receive(two, channel))["n"] == n


async def test_group_discard_stops_delivery_to_that_member_only(pair) -> None:
    one, two = pair
    a1, b1, b2 = await one.new_channel(), await two.new_channel(), await two.new_channel()
    for layer, channel in ((one, a1), (two, b1), (two, b2)):
        await layer.group_add("chat.y", channel)
    await two.group_discard("chat.y", b1)
    await two.group_discard("chat.y", b1)  # twice is fine
    await one.group_send("chat.y", {"type": "chat.event", "n": 1})
    assert (await receive(one, a1))["n"] == 1
    assert (await receive(two, b2))["n"] == 1
    # b1 left: the next thing it gets is a later direct frame.
    await two.send(b1, {"type": "later"})
    assert (await receive(two, b1))["type"] == "later"


async def test_the_last_member_leaving_unsubscribes_the_process(pair) -> None:
    one, _ = pair
    channel = await one.new_channel()
    await one.group_add("chat.z", channel)
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    key = one.group_key("chat.z")
    assert dict(await client.pubsub_numsub(key))[key] == 1
    await one.group_discard("chat.z", channel)
    for _ in range(50):
        if dict(await client.pubsub_numsub(key))[key] == 0:
            break
        await asyncio.sleep(0.05)
    assert dict(await client.pubsub_numsub(key))[key] == 0
    await client.aclose()


async def test_a_consumer_that_ended_without_leaving_is_forgotten_after_expiry() -> None:
    layer = make_layer(expiry=0.3)
    channel = await layer.new_channel()
    await layer.group_add("chat.gone", channel)
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0)
    receiving.cancel()  # what Channels does when a consumer ends
    with pytest.raises(asyncio.CancelledError):
        await receiving
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    key = layer.group_key("chat.gone")
    for _ in range(60):
        if dict(await client.pubsub_numsub(key))[key] == 0:
            break
        await asyncio.sleep(0.05)
    assert dict(await client.pubsub_numsub(key))[key] == 0
    await client.aclose()
    await layer.close()


async def test_a_full_channel_refuses_a_send_and_drops_group_messages() -> None:
    layer = make_layer(capacity=2)
    channel = await layer.new_channel()
    await layer.group_add("chat.full", channel)
    for n in range(3):
        await layer.group_send("chat.full", {"type": "chat.event", "n": n})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "chat.event", "n": 9})
    assert [(await receive(layer, channel))["n"] for _ in range(2)] == [0, 1]
    await layer.close()


async def test_redis_unreachable_is_one_layer_lost_and_a_clear_refusal() -> None:
    layer = make_layer(f"redis://127.0.0.1:{free_port()}/0")
    # A consumer can start (no HTTP 500 before the handshake) ...
    channel = await layer.new_channel()
    # ... is told once ...
    assert await receive(layer, channel, timeout=10) == LAYER_LOST
    # ... and a join says why instead of hanging.
    fresh = await layer.new_channel()
    with pytest.raises(RedisError):
        await asyncio.wait_for(layer.group_add("chat.down", fresh), 10)
    assert await receive(layer, fresh, timeout=10) == LAYER_LOST
    # After it, nothing more: its next receive waits until the consumer ends.
    waiting = asyncio.create_task(layer.receive(channel))
    later = await layer.new_channel()
    assert await receive(layer, later, timeout=10) == LAYER_LOST  # a later frame, elsewhere
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await layer.close()


async def test_a_redis_restart_tells_every_channel_once_and_resubscribes_nobody() -> None:
    with RedisServer() as redis_server:
        prefix = f"pstest{uuid.uuid4().hex[:8]}"
        one = make_layer(redis_server.url, prefix=prefix, host={"socket_timeout": 3})
        two = make_layer(redis_server.url, prefix=prefix, host={"socket_timeout": 3})
        waiting_ch, busy_ch, plain_ch = (
            await one.new_channel(),
            await one.new_channel(),
            await one.new_channel(),
        )
        remote = await two.new_channel()
        for channel in (waiting_ch, busy_ch):
            await one.group_add("chat.old", channel)
        await two.group_add("chat.old", remote)
        waiting = asyncio.create_task(one.receive(waiting_ch))
        await one.group_send("chat.old", {"type": "chat.event", "n": 1})
        assert (await asyncio.wait_for(waiting, 5))["n"] == 1
        assert (await receive(two, remote))["n"] == 1
        waiting = asyncio.create_task(one.receive(waiting_ch))

        redis_server.kill()
        # Waiting or not, in a group or not: exactly one `layer.lost` each.
        assert await asyncio.wait_for(waiting, 10) == LAYER_LOST
        # What it had queued is dropped: its client resyncs all of it.
        assert await receive(one, busy_ch) == LAYER_LOST
        assert await receive(one, plain_ch) == LAYER_LOST
        assert await receive(two, remote) == LAYER_LOST
        after_lost = [asyncio.create_task(one.receive(ch)) for ch in (waiting_ch, busy_ch)]

        redis_server.start()
        # New consumers work again, in both processes ...
        new_one, new_two = await one.new_channel(), await two.new_channel()
        await one.group_add("chat.new", new_one)
        await two.group_add("chat.new", new_two)
        # ... while the old group was not resubscribed behind the old channels' back:
        await two.group_send("chat.old", {"type": "chat.event", "n": 2})
        await one.send(busy_ch, {"type": "chat.event", "n": 3})
        await two.group_send("chat.new", {"type": "chat.event", "n": 4})
        assert (await receive(one, new_one))["n"] == 4
        assert (await receive(two, new_two))["n"] == 4
        assert not any(task.done() for task in after_lost)
        for task in after_lost:
            task.cancel()
        await one.close()
        await two.close()


async def test_a_silent_redis_is_lost_by_the_health_check() -> None:
    with RedisServer() as redis_server:
        layer = make_layer(redis_server.url, host={"health_check_interval": 1})
        layer.subscribe_timeout = 1
        channel = await layer.new_channel()
        await layer.group_add("chat.quiet", channel)
        assert redis_server.process is not None
        redis_server.process.send_signal(19)  # SIGSTOP: the socket stays open, nothing answers
        try:
            assert await receive(layer, channel, timeout=15) == LAYER_LOST
        finally:
            redis_server.process.send_signal(18)  # SIGCONT
        await layer.close()


async def test_an_idle_link_outlasts_every_read_timeout() -> None:
    with RedisServer() as redis_server:
        layer = make_layer(redis_server.url, host={"socket_timeout": 1, "health_check_interval": 1})
        channel = await layer.new_channel()
        await layer.group_add("chat.idle", channel)
        with pytest.raises(asyncio.TimeoutError):
            # Nothing is sent: only our own deadline may end the wait, never Redis's.
            await receive(layer, channel, timeout=3.5)
        await layer.group_send("chat.idle", {"type": "still.alive"})
        assert (await receive(layer, channel))["type"] == "still.alive"
        await layer.close()


@pytest.mark.parametrize("pause", [False, True])
async def test_the_last_member_leaving_and_another_joining_at_once_keeps_the_group(
    pair, pause: bool
) -> None:
    one, two = pair
    first, second = await two.new_channel(), await two.new_channel()
    await two.group_add("chat.again", first)
    await two.group_discard("chat.again", first)
    if pause:
        await asyncio.sleep(0.05)  # the UNSUBSCRIBE goes out before the next SUBSCRIBE
    await two.group_add("chat.again", second)
    await one.group_send("chat.again", {"type": "chat.event", "n": 1})
    assert (await receive(two, second))["n"] == 1


async def test_layers_on_two_databases_of_one_redis_do_not_hear_each_other() -> None:
    # Redis pub/sub ignores the database number; the layer must not: two runs
    # kept apart by REDIS_URL's database (the helpers' test runs, two sites on
    # one Redis) got each other's operator broadcasts before it did.
    prefix = f"pstest{uuid.uuid4().hex[:8]}"
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    here = make_layer(f"{base}/3", prefix=prefix)
    same_db = make_layer(f"{base}/3", prefix=prefix)
    other_db = make_layer(f"{base}/4", prefix=prefix)
    try:
        a, b = await same_db.new_channel(), await other_db.new_channel()
        await same_db.group_add("operators", a)
        await other_db.group_add("operators", b)
        await here.group_send("operators", {"type": "chat.event", "n": 1})
        await other_db.group_send("operators", {"type": "chat.event", "n": 2})
        assert (await receive(same_db, a))["n"] == 1
        # The other database's member gets its own database's message, not ours first.
        assert (await receive(other_db, b))["n"] == 2
        assert here.group_key("operators") != other_db.group_key("operators")
    finally:
        for layer in (here, same_db, other_db):
            await layer.close()


async def test_a_channel_made_with_another_prefix_is_reached_from_another_process(pair) -> None:
    one, two = pair
    there = await two.new_channel(prefix="worker.")
    waiting = asyncio.create_task(two.receive(there))
    await two.group_add("warmup", there)  # the link is up and subscribed
    await one.send(there, {"type": "remote.hello"})
    assert await asyncio.wait_for(waiting, 5) == {"type": "remote.hello"}
