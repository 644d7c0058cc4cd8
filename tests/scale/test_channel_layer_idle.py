"""A quiet process must keep its sockets: the layer's Redis reads outlast its waits.

channels-redis's core layer waits for messages with BZPOPMIN for
`brpop_timeout` (5 s); redis-py 8 times a read out after 5 s by default.
With both at 5 s the receive loop raised redis TimeoutError on an idle
process, which killed the consumer holding the loop and closed its socket
with 1011, one socket every few seconds (seen with 5,000 idle sockets in the
benchmark). The pub/sub layer's link reads without a timeout
(tests/scale/test_pubsub_layer.py, `test_an_idle_link_outlasts_every_read_timeout`);
the project's layer, whichever it is, must wait quietly past both.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer

from bench.stack import ROOT


def core_layer_config() -> dict[str, Any]:
    """The CHANNEL_LAYERS config the settings build with CHANNEL_LAYER=core."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CHANNEL_LAYERS['default']['CONFIG'], default=str))",
        ],
        cwd=ROOT,
        env={**os.environ, "CHANNEL_LAYER": "core"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    config: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return config


def test_core_layer_read_timeout_is_longer_than_the_blocking_pop() -> None:
    timeout = core_layer_config()["hosts"][0]["socket_timeout"]
    assert isinstance(timeout, int | float)
    assert timeout >= RedisChannelLayer.brpop_timeout * 2


async def test_a_receive_with_nothing_to_read_waits_past_the_pop_without_error() -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    with pytest.raises(asyncio.TimeoutError):
        # Nothing is sent: only our own deadline may end the wait, never Redis's.
        await asyncio.wait_for(layer.receive(channel), timeout=RedisChannelLayer.brpop_timeout + 3)
    await layer.send(channel, {"type": "still.alive"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=5)
    assert message["type"] == "still.alive"
    await layer.flush()
