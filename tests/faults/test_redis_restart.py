"""Redis restarted during a conversation: the server survives, clients reconnect,
no acknowledged message is lost and live delivery resumes.

daphne uses a private redis-server started by the test (never the shared one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from chat.models import ChatMessage
from chat.transport import CLOSE_TRY_AGAIN_LATER
from tests.factories import make_operator, session_cookie
from tests.faults.infra import ChatClient, RedisServer, app_failures
from tests.servers import ServerProcess, start_daphne
from tests.wsclient import next_of

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[ServerProcess]:
    process = start_daphne(REDIS_URL=redis_server.url, OPENROUTER_API_KEY="")
    yield process
    process.stop()
    assert app_failures(process.log()) == []


async def _try_while_down(client: ChatClient, text: str) -> None:
    """Send during the outage: an ack must mean the message is stored."""
    try:
        client_id = await client.send_message(text)
        frame = await client.outcome(client_id, timeout=10)
    except Exception:
        return  # the socket died with Redis: the client will reconnect and resend
    if frame["type"] == "message_ack":
        assert await ChatMessage.objects.filter(client_id=client_id).aexists()
    else:
        assert frame["code"] == "unavailable"


async def test_a_conversation_survives_a_redis_restart(server, redis_server):
    tab = ChatClient()
    await tab.connect(server.ws_url, server.port)
    first = await tab.send_message("Здравствуйте, есть туры в Елабугу?")
    assert (await tab.outcome(first))["type"] == "message_ack"

    redis_server.kill()
    await _try_while_down(tab, "Алло?")
    redis_server.start()  # same port, empty: channel layer groups and windows are gone

    # The widget reconnects with its token and `after`, then resends what was not acked.
    await tab.close()
    await tab.connect_retrying(server.ws_url, server.port)
    await tab.resend_pending()
    after = await tab.send_message("Сколько стоит?")
    assert (await tab.outcome(after))["type"] == "message_ack"

    # Live delivery resumes: a second tab of the same visitor sees new messages.
    other = ChatClient(token=tab.token, session_id=tab.session_id, last_id=tab.last_id)
    await other.connect_retrying(server.ws_url, server.port)
    live = await tab.send_message("А на выходные?")
    assert (await tab.outcome(live))["type"] == "message_ack"
    seen = await other.expect("visitor_message")
    assert seen["client_id"] == live

    # Every acknowledged message is stored exactly once, in order.
    history = await tab.full_history(server.ws_url, server.port)
    visitor_ids = [m["client_id"] for m in history if m["author"] == "visitor"]
    assert sorted(visitor_ids) == sorted(tab.acked)
    assert len(visitor_ids) == len(set(visitor_ids))
    assert server.process.poll() is None
    await other.close()
    await tab.close()


async def test_sockets_opened_while_redis_is_down_are_told_to_retry(server, redis_server):
    redis_server.kill()
    frames = []
    async with connect(
        f"{server.ws_url}/ws/chat/", origin=Origin(f"http://127.0.0.1:{server.port}")
    ) as ws:
        # The server may notice the outage before or after reading `register`;
        # either way the socket is told `unavailable` and closed with 1013.
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"type": "register"}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(await ws.recv()))
    assert [(f["type"], f.get("code")) for f in frames] == [("error", "unavailable")]
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_TRY_AGAIN_LATER

    redis_server.start()
    client = ChatClient()
    await client.connect_retrying(server.ws_url, server.port)
    assert client.session_id
    await client.close()


async def test_an_operator_connecting_while_redis_is_down_is_told_to_retry(server, redis_server):
    """Issue 14, item 4: `unavailable` and 1013, never a crash (1011)."""
    user = await database_sync_to_async(make_operator)(name="Алия")
    cookie = await database_sync_to_async(session_cookie)(user)
    redis_server.kill()
    frames = []
    async with connect(
        f"{server.ws_url}/ws/support/",
        origin=Origin(f"http://127.0.0.1:{server.port}"),
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as desk:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(await desk.recv()))
    assert frames, "closed without saying why"
    assert {(f["type"], f.get("code")) for f in frames} == {("error", "unavailable")}
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_TRY_AGAIN_LATER

    redis_server.start()
    async with connect(
        f"{server.ws_url}/ws/support/",
        origin=Origin(f"http://127.0.0.1:{server.port}"),
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as desk:
        assert (await next_of(desk, "queue"))["requests"] == []


REDIS_ERROR_MARKS = ("Redis", "ConnectionError", "Error 111", "could not", "layer lost", "Connect")


async def _visitors_chat_and_leave(server: ServerProcess, count: int) -> list[ChatClient]:
    """`count` visitors at once: register, one acknowledged message each, close."""

    async def one() -> ChatClient:
        client = ChatClient()
        await client.connect(server.ws_url, server.port)
        client_id = await client.send_message("Есть места на субботу?")
        assert (await client.outcome(client_id))["type"] == "message_ack"
        await client.close()
        return client

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_no_redis_error_later_than_5s_after_redis_is_back(server, redis_server):
    """Issue 14, item 3: pooled connections that went stale in the restart are retried.

    Busy sockets fill both pools (presence/limits and the channel layer)
    with connections before the restart; used again afterwards, each failed
    its next command: ghost presence, lost publishes, refused sockets.
    """
    await _visitors_chat_and_leave(server, 12)
    redis_server.kill()
    redis_server.start()
    await asyncio.sleep(5)
    seen = len(server.log())
    clients = await _visitors_chat_and_leave(server, 12)
    # A waiting visitor who leaves is recorded as gone (no ghost presence).
    user = await database_sync_to_async(make_operator)(name="Алия")
    cookie = await database_sync_to_async(session_cookie)(user)
    async with connect(
        f"{server.ws_url}/ws/support/",
        origin=Origin(f"http://127.0.0.1:{server.port}"),
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as desk:
        await next_of(desk, "queue")
        waiting = ChatClient(token=clients[0].token, session_id=clients[0].session_id)
        await waiting.connect(server.ws_url, server.port)
        assert waiting.ws is not None
        await waiting.ws.send(json.dumps({"type": "request_support", "reason": "Вопрос"}))
        await waiting.expect("support_pending")
        await next_of(desk, "new_support_request")
        # The claim reaches the claiming socket directly.
        await desk.send(json.dumps({"type": "join_support_chat", "session_id": waiting.session_id}))
        assert (await next_of(desk, "support_chat_joined"))["session_id"] == waiting.session_id
        await waiting.expect("support_joined")
        await waiting.close()
    await asyncio.sleep(0.5)
    later = server.log()[seen:]
    errors = [line for line in later.splitlines() if any(m in line for m in REDIS_ERROR_MARKS)]
    assert errors == [], "\n".join(errors)


@pytest.mark.heavy  # make faults: seen once in 4 runs to leave "took too long to shut down"
async def test_a_reconnect_storm_through_a_redis_restart_leaves_no_noise(server, redis_server):
    """Issue 14, item 6: 20 visitors hammer the server while Redis is down and after.

    The fixture checks the log: no frame sent on a closed socket, no consumer
    killed for outliving daphne's shutdown timeout, no crash.
    """
    clients = [ChatClient() for _ in range(20)]
    await asyncio.gather(*(c.connect(server.ws_url, server.port) for c in clients))
    redis_server.kill()

    async def storm(client: ChatClient) -> None:
        for _ in range(5):
            await client.close()
            with contextlib.suppress(Exception):
                await client.connect(server.ws_url, server.port)

    await asyncio.gather(*(storm(c) for c in clients))
    redis_server.start()
    for client in clients:
        await client.close()
    await asyncio.gather(*(c.connect_retrying(server.ws_url, server.port) for c in clients))

    async def says_again(client: ChatClient) -> str:
        frame = await client.outcome(await client.send_message("Снова на связи"))
        return str(frame["type"])

    outcomes = await asyncio.gather(*(says_again(c) for c in clients))
    assert set(outcomes) == {"message_ack"}
    for client in clients:
        await client.close()
    await asyncio.sleep(11)  # past daphne's application close timeout (10 s)
