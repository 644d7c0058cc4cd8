"""The core layer (CHANNEL_LAYER=core): channels-redis's core layer, and Redis loss as an event.

The default is the pub/sub layer (tests/scale/test_pubsub_layer.py); this
one stays selectable, to compare against in the benchmark.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from django.conf import settings

from bench.stack import channel_layer_backend
from tatartours.channel_layer import LAYER_LOST, RedisChannelLayer
from tests.faults.infra import RedisServer
from tests.servers import free_port


def make_layer(address: str = settings.REDIS_URL, **host: object) -> RedisChannelLayer:
    return RedisChannelLayer(hosts=[{"address": address, **host}], prefix="scaletest")


def test_the_project_uses_it_when_asked() -> None:
    backend = channel_layer_backend({**os.environ, "CHANNEL_LAYER": "core"})
    assert backend == "tatartours.channel_layer.RedisChannelLayer"


async def test_every_member_gets_the_message_local_and_process_channels_alike() -> None:
    layer = make_layer()
    local_a, local_b = await layer.new_channel(), await layer.new_channel()
    plain = "plain.channel"
    for channel in (local_a, local_b, plain):
        await layer.group_add("chat.one", channel)
    await layer.group_send("chat.one", {"type": "chat.event", "n": 1})
    for channel in (local_a, local_b, plain):
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        assert message == {"type": "chat.event", "n": 1}
    await layer.flush()


async def test_redis_unreachable_while_receiving_is_one_layer_lost_event_then_silence() -> None:
    layer = make_layer(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    channel = await layer.new_channel()
    assert await asyncio.wait_for(layer.receive(channel), timeout=10) == LAYER_LOST
    # Told once: the consumer closes its socket; its next receive never returns
    # (no second `layer.lost`, no exception) until the consumer ends.
    waiting = asyncio.create_task(layer.receive(channel))
    done, _ = await asyncio.wait([waiting], timeout=0.5)
    assert not done
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert channel not in layer.lost_channels  # nothing kept for a consumer that ended


async def test_a_redis_restart_under_a_waiting_receiver_is_reported_not_raised() -> None:
    with RedisServer() as redis_server:
        layer = make_layer(redis_server.url, socket_timeout=15, socket_connect_timeout=1)
        channel = await layer.new_channel()
        receiving = asyncio.create_task(layer.receive(channel))
        await layer.send(channel, {"type": "chat.event", "n": 1})
        assert (await asyncio.wait_for(receiving, timeout=5))["n"] == 1
        receiving = asyncio.create_task(layer.receive(channel))
        redis_server.kill()
        assert await asyncio.wait_for(receiving, timeout=10) == LAYER_LOST
        # Sockets opened after Redis is back get live events again.
        redis_server.start()
        fresh = await layer.new_channel()
        await layer.send(fresh, {"type": "chat.event", "n": 2})
        assert (await asyncio.wait_for(layer.receive(fresh), timeout=10))["n"] == 2
        await layer.flush()
