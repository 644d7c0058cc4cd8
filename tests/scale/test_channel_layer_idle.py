"""A quiet process must keep its sockets: the layer's Redis reads outlast its blocking pop.

channels-redis waits for messages with BZPOPMIN for `brpop_timeout` (5 s);
redis-py 8 times a read out after 5 s by default. With both at 5 s the
receive loop raised redis TimeoutError on an idle process, which killed the
consumer holding the loop and closed its socket with 1011, one socket every
few seconds (seen with 5,000 idle sockets in the benchmark).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings


def test_layer_read_timeout_is_longer_than_the_blocking_pop() -> None:
    layers: dict[str, Any] = settings.CHANNEL_LAYERS
    timeout = layers["default"]["CONFIG"]["hosts"][0]["socket_timeout"]
    assert isinstance(timeout, int | float)
    assert timeout >= RedisChannelLayer.brpop_timeout * 2


async def test_a_receive_with_nothing_to_read_waits_past_the_pop_without_error() -> None:
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    channel = await layer.new_channel()
    with pytest.raises(asyncio.TimeoutError):
        # Nothing is sent: only our own deadline may end the wait, never Redis's.
        await asyncio.wait_for(layer.receive(channel), timeout=layer.brpop_timeout + 3)
    await layer.send(channel, {"type": "still.alive"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert message["type"] == "still.alive"
    await layer.flush()
