"""Frames for one group in a row travel as one layer message, in order."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import get_channel_layer

from chat.publish import send_events


async def test_consecutive_frames_for_a_group_arrive_as_one_message_in_order() -> None:
    layer = get_channel_layer()
    assert layer is not None
    tab, operator = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("chat.session.a", tab)
    await layer.group_add("chat.session.b", operator)
    answer = {"type": "ai_response", "id": 2}
    typing_off = {"type": "ai_typing", "typing": False}
    other = {"type": "visitor_typing", "typing": True}

    await send_events([("chat.session.a", answer), ("chat.session.a", typing_off),
                       ("chat.session.b", other)])  # fmt: skip

    event = await asyncio.wait_for(layer.receive(tab), timeout=5)
    assert [event["frame"], *event["more"]] == [answer, typing_off]
    assert "origin" not in event
    single = await asyncio.wait_for(layer.receive(operator), timeout=5)
    assert single["frame"] == other and "more" not in single
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(tab), timeout=0.5)
