"""A visitor resyncing while the operator writes fast misses nothing (issue 14, item 1).

Two real daphne processes: operators on B write to their chats as fast as
the acks come back; each visitor on A reconnects again and again with
`register {token, after}`, reading a little live traffic each time. A
message committed between the history read and the socket joining the
chat's group used to be in neither `registered.messages` nor the live
stream, and `after` then moved past it for good.

The ledger at the end compares what the operators were acknowledged, what
the database holds and what each visitor received: nothing lost, nothing
received twice on one socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from chat.models import ChatMessage
from tests.factories import make_operator, session_cookie
from tests.faults.ledger import Ledger
from tests.servers import ServerProcess, start_daphne
from tests.wsclient import next_of, send

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

PAIRS = 4
WRITE_SECONDS = float(os.environ.get("FAULT_SECONDS", "6"))  # make faults: 20
IN_FLIGHT = 2  # operator messages sent before their acks came back
# Limits that would refuse a reconnect loop are off: this test is about delivery.
NO_LIMITS = {
    "CHAT_REGISTERS_PER_MINUTE": "0",
    "CHAT_REGISTERS_PER_IP_PER_MINUTE": "0",
    "CHAT_CONNECTIONS_PER_MINUTE": "0",
    "CHAT_RATE_LIMIT_PER_MINUTE": "0",
    "OPENROUTER_API_KEY": "",
}


@pytest.fixture
def servers() -> Any:
    first = start_daphne(None, None, **NO_LIMITS)
    try:
        second = start_daphne(None, None, **NO_LIMITS)
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def _visitor(server: ServerProcess) -> Any:
    return connect(f"{server.ws_url}/ws/chat/", origin=Origin(server.http_url), open_timeout=10)


async def _handed_to_operator(widget: ClientConnection, desk: ClientConnection) -> tuple[str, str]:
    await send(widget, type="register")
    registered = await next_of(widget, "registered")
    session_id, token = registered["session_id"], registered["token"]
    await send(widget, type="request_support", reason="Вопрос")
    await next_of(desk, "new_support_request")
    await send(desk, type="join_support_chat", session_id=session_id)
    await next_of(widget, "support_joined")
    return session_id, token


async def _operator_writes(
    desk: ClientConnection, session_ids: list[str], ledger: Ledger, stop: asyncio.Event
) -> None:
    """Round robin over the chats, a few messages in flight at a time."""
    in_flight = asyncio.Semaphore(IN_FLIGHT)
    pending: dict[str, str] = {}

    async def read_acks() -> None:
        while True:
            frame: dict[str, Any] = json.loads(await desk.recv(decode=True))
            if frame["type"] == "message_ack" and frame["client_id"] in pending:
                ledger.acked(pending.pop(frame["client_id"]), int(frame["id"]))
                in_flight.release()

    reader = asyncio.create_task(read_acks())
    n = 0
    while not stop.is_set():
        await in_flight.acquire()
        session_id = session_ids[n % len(session_ids)]
        client_id = str(uuid.uuid4())
        pending[client_id] = session_id
        await send(
            desk, type="message", session_id=session_id, client_id=client_id, message=f"Ответ {n}"
        )
        n += 1
    async with asyncio.timeout(15):
        for _ in range(IN_FLIGHT):
            await in_flight.acquire()
    reader.cancel()


async def _visitor_resyncs(
    server: ServerProcess, session_id: str, token: str, ledger: Ledger, stop: asyncio.Event
) -> int:
    """Reconnect with `after` until told to stop; returns how many resyncs it made."""
    last_id = 0
    resyncs = 0
    while not stop.is_set():
        async with _visitor(server) as widget:
            await send(widget, type="register", token=token, after=last_id)
            seen_here: set[int] = set()
            deadline = asyncio.get_running_loop().time() + random.uniform(0.0, 0.04)
            while True:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0 and seen_here:
                    break
                try:
                    async with asyncio.timeout(max(timeout, 0.05) if seen_here else 10):
                        frame: dict[str, Any] = json.loads(await widget.recv(decode=True))
                except TimeoutError:
                    if seen_here or stop.is_set():
                        break
                    raise
                if frame["type"] == "registered":
                    ids = [m["id"] for m in frame["messages"]]
                    seen_here.add(0)
                elif frame["type"] == "operator_message":
                    ids = [frame["id"]]
                else:
                    continue
                for message_id in ids:
                    ledger.received(session_id, message_id, duplicate=message_id in seen_here)
                    seen_here.add(message_id)
                    last_id = max(last_id, message_id)
        resyncs += 1
    return resyncs


async def test_no_operator_message_is_lost_while_the_visitor_resyncs(servers):
    process_a, process_b = servers
    user = await database_sync_to_async(make_operator)(name="Алия", max_chats=PAIRS)
    cookie = await database_sync_to_async(session_cookie)(user)
    ledger = Ledger()
    async with connect(
        f"{process_b.ws_url}/ws/support/",
        origin=Origin(process_b.http_url),
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=10,
    ) as desk:
        await next_of(desk, "queue")
        chats = []
        for _ in range(PAIRS):
            async with _visitor(process_a) as widget:
                chats.append(await _handed_to_operator(widget, desk))
        stop = asyncio.Event()

        async def stop_later() -> None:
            await asyncio.sleep(WRITE_SECONDS)
            stop.set()

        _stopped, _written, *counts = await asyncio.gather(
            stop_later(),
            _operator_writes(desk, [s for s, _ in chats], ledger, stop),
            *(_visitor_resyncs(process_a, sid, token, ledger, stop) for sid, token in chats),
        )
        resyncs = sum(int(n or 0) for n in counts)

    for session_id, _token in chats:
        stored = [
            m.id
            async for m in ChatMessage.objects.filter(
                session__public_id=session_id, author=ChatMessage.Author.OPERATOR
            ).order_by("id")
        ]
        ledger.stored(session_id, stored)
    report = ledger.report()
    report.publish("resync-race", f"{resyncs} resyncs in {WRITE_SECONDS:.0f}s, {PAIRS} chats")
    # Floors that hold on a loaded 2-core machine (a quiet one does ~4x as many).
    assert resyncs >= 10 * PAIRS, "too few resyncs to exercise the race"
    assert report.acked >= 100, "the operator wrote too little to exercise the race"
    assert report.lost_in_db == 0, report.table()
    # Acknowledged, stored, and older than what the visitor last had: never delivered.
    assert report.missed == 0, report.table()
    assert report.duplicated == 0, report.table()
