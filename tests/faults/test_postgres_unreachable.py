"""PostgreSQL unreachable: `unavailable`, never an ack for an unstored message; recovery.

daphne reaches the shared PostgreSQL through a TCP proxy this test controls,
so the database server itself is never stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from websockets.asyncio.client import connect
from websockets.typing import Origin

from chat.models import ChatMessage
from tests import servers
from tests.faults.infra import ChatClient, TcpProxy
from tests.servers import ServerProcess, start_daphne

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

POOL_TIMEOUT = 2  # DB_POOL_TIMEOUT and DB_CONNECT_TIMEOUT of the server under test
SURFACES_WITHIN = 10  # seconds: "within a few seconds", with room for a loaded machine


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    port = int(connection.settings_dict.get("PORT") or 5432)
    with TcpProxy(port) as tcp_proxy:
        yield tcp_proxy


@pytest.fixture
def server(proxy: TcpProxy) -> Iterator[ServerProcess]:
    url = servers.test_database_url().replace(
        f":{connection.settings_dict.get('PORT') or 5432}/", f":{proxy.port}/"
    )
    assert f":{proxy.port}/" in url
    process = start_daphne(
        DATABASE_URL=url,
        DB_POOL_TIMEOUT=str(POOL_TIMEOUT),
        DB_CONNECT_TIMEOUT=str(POOL_TIMEOUT),
        OPENROUTER_API_KEY="",
    )
    yield process
    process.stop()
    assert "Traceback" not in process.log(), process.log()


async def _outcome_while_down(client: ChatClient, text: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    client_id = await client.send_message(text)
    frame = await client.outcome(client_id, timeout=SURFACES_WITHIN + 20)
    return frame, time.monotonic() - started


async def _send_until_acked(client: ChatClient, client_id: str, timeout: float = 30) -> dict:
    """The widget's behaviour: resend the same client_id until it is acknowledged."""
    deadline = time.monotonic() + timeout
    while True:
        await client.send_message(client.texts[client_id], client_id)
        frame = await client.outcome(client_id)
        if frame["type"] == "message_ack" or time.monotonic() > deadline:
            return frame
        assert frame["code"] == "unavailable", frame


@pytest.mark.parametrize("blackhole", [False, True], ids=["refused", "blackhole"])
async def test_messages_get_unavailable_while_the_database_is_gone_and_recover(
    server, proxy, blackhole
):
    client = ChatClient()
    await client.connect(server.ws_url, server.port)
    before = await client.send_message("Сколько стоит тур?")
    assert (await client.outcome(before))["type"] == "message_ack"

    proxy.cut(blackhole=blackhole)
    frame, took = await _outcome_while_down(client, "А скидки есть?")
    assert frame["type"] == "error", "acknowledged while the database was unreachable"
    assert frame["code"] == "unavailable"
    assert frame["message"]
    assert took < SURFACES_WITHIN, f"unavailable only after {took:.1f}s"
    lost_id = frame["client_id"]
    assert not await ChatMessage.objects.filter(client_id=lost_id).aexists()

    proxy.restore()
    if blackhole:
        proxy.cut()  # end the hung connections so the pool notices at once
        proxy.restore()
    ack = await _send_until_acked(client, lost_id)
    assert ack["type"] == "message_ack"
    # The same socket lived through it; a resend of the first message is still one message.
    again = await client.send_message("Сколько стоит тур?", before)
    assert (await client.outcome(again))["id"] == client.acked[before]
    texts = [m.text async for m in ChatMessage.objects.filter(author="visitor").order_by("id")]
    assert texts == ["Сколько стоит тур?", "А скидки есть?"]
    await client.close()


async def test_a_new_visitor_is_told_unavailable_not_left_waiting(server, proxy):
    proxy.cut()
    started = time.monotonic()
    async with connect(
        f"{server.ws_url}/ws/chat/", origin=Origin(f"http://127.0.0.1:{server.port}")
    ) as ws:
        await ws.send(json.dumps({"type": "register"}))
        frame = json.loads(await ws.recv())
    assert frame["type"] == "error"
    assert frame["code"] == "unavailable"
    assert time.monotonic() - started < SURFACES_WITHIN
    proxy.restore()
    client = ChatClient()
    await client.connect_retrying(server.ws_url, server.port)
    assert client.session_id
    await client.close()
