"""Operators online across processes: expiring heartbeats in Redis."""

from __future__ import annotations

import asyncio
import time

import pytest

from support import presence
from tests.support.flows import drain
from tests.waiting import eventually

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_socket_that_stops_beating_expires(settings):
    """A crashed process never says goodbye; its operator goes offline by the TTL."""
    settings.SUPPORT_PRESENCE_TTL_SECONDS = 1
    await presence.heartbeat(42, "socket-of-a-crashed-process")
    assert 42 in (await presence.snapshot()).available_ids

    async def gone() -> bool:
        return 42 not in (await presence.snapshot()).online_ids

    await eventually(gone, timeout=10.0)
    state = (await presence.snapshot()).operators[42]
    assert not state.online and state.last_seen <= time.time()


async def test_heartbeats_keep_an_operator_online(settings):
    settings.SUPPORT_PRESENCE_TTL_SECONDS = 2
    await presence.heartbeat(7, "tab")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        await presence.heartbeat(7, "tab")
        assert 7 in (await presence.snapshot()).online_ids
        await asyncio.sleep(0.3)


async def test_one_operator_is_online_while_any_of_their_tabs_is(settings):
    await presence.heartbeat(5, "tab-1")
    await presence.heartbeat(5, "tab-2")
    await presence.leave(5, "tab-1")
    assert 5 in (await presence.snapshot()).online_ids
    await presence.leave(5, "tab-2")
    assert 5 not in (await presence.snapshot()).online_ids


async def test_the_operator_socket_is_presence(operator):
    alia = await operator()
    assert alia.user_id in (await presence.snapshot()).available_ids
    await alia.send({"type": "set_status", "status": "away"})
    await alia.until("operator_status")
    snapshot = await presence.snapshot()
    assert alia.user_id in snapshot.online_ids
    assert alia.user_id not in snapshot.available_ids
    await alia.close()
    assert alia.user_id not in (await presence.snapshot()).online_ids


async def test_operators_see_who_is_online(operator):
    alia = await operator(name="Алия")
    bulat = await operator(name="Булат")
    await drain(alia)
    await alia.send({"type": "get_operators"})
    listed, _ = await alia.until("operators")
    by_name = {o["name"]: o for o in listed["operators"]}
    assert set(by_name) == {"Алия", "Булат"}
    assert by_name["Булат"]["id"] == bulat.user_id
    assert by_name["Булат"]["status"] == "online"
    assert by_name["Булат"]["chats"] == 0
    assert by_name["Булат"]["capacity"] >= 1


async def test_a_heartbeat_frame_is_accepted_silently(operator):
    alia = await operator()
    await alia.send({"type": "heartbeat"})
    assert not [f for f in await drain(alia) if f["type"] == "error"]
