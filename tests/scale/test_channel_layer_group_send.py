"""Our channel layer's group_send (two Redis round trips) keeps channels-redis's semantics."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from tatartours.channel_layer import RedisChannelLayer


def make_layer(**config: object) -> RedisChannelLayer:
    return RedisChannelLayer(hosts=[{"address": settings.REDIS_URL}], prefix="scaletest", **config)


def test_the_project_uses_it() -> None:
    assert isinstance(get_channel_layer(), RedisChannelLayer)


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


async def test_a_group_without_members_sends_nothing_and_does_not_fail() -> None:
    layer = make_layer()
    await layer.group_send("chat.nobody", {"type": "chat.event"})
    await layer.flush()


async def test_a_full_channel_is_skipped_without_an_error_and_others_still_get_it() -> None:
    layer = make_layer(capacity=2)
    full, free = "full.channel", "free.channel"
    await layer.group_add("chat.busy", full)
    await layer.group_add("chat.busy", free)
    for n in range(2):
        await layer.send(full, {"type": "chat.event", "n": n})
    await layer.group_send("chat.busy", {"type": "chat.event", "n": "group"})
    assert (await asyncio.wait_for(layer.receive(free), timeout=5))["n"] == "group"
    received = [(await asyncio.wait_for(layer.receive(full), timeout=5))["n"] for _ in range(2)]
    assert received == [0, 1]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(full), timeout=0.5)
    await layer.flush()


async def test_members_past_the_group_expiry_are_dropped() -> None:
    layer = make_layer(group_expiry=60)
    await layer.group_add("chat.old", "stale.channel")
    connection = layer.connection(layer.consistent_hash("chat.old"))
    # As if it joined two minutes ago and never refreshed its membership.
    await connection.zadd(layer._group_key("chat.old"), {"stale.channel": time.time() - 120})
    await layer.group_send("chat.old", {"type": "chat.event"})
    assert await connection.zcard(layer._group_key("chat.old")) == 0
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive("stale.channel"), timeout=0.5)
    await layer.flush()


async def test_messages_past_their_expiry_are_purged_before_the_capacity_check() -> None:
    layer = make_layer(capacity=1, expiry=60)
    await layer.group_add("chat.expiry", "slow.channel")
    connection = layer.connection(layer.consistent_hash("slow.channel"))
    key = layer.prefix + "slow.channel"
    await connection.zadd(key, {b"ancient": time.time() - 120})  # fills the capacity of 1
    await layer.group_send("chat.expiry", {"type": "chat.event", "n": "fresh"})
    message = await asyncio.wait_for(layer.receive("slow.channel"), timeout=5)
    assert message["n"] == "fresh"
    await layer.flush()


async def test_the_origin_socket_is_not_sent_its_own_event_and_the_others_are() -> None:
    layer = make_layer()
    sender, other_tab = await layer.new_channel(), await layer.new_channel()
    for channel in (sender, other_tab):
        await layer.group_add("chat.origin", channel)
    event = {"type": "chat.event", "frame": {"type": "ai_typing"}, "origin": sender}
    await layer.group_send("chat.origin", event)
    assert await asyncio.wait_for(layer.receive(other_tab), timeout=5) == event
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(sender), timeout=0.5)
    await layer.flush()
