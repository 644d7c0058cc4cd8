"""A visitor whose server process dies reconnects to another one and resumes with `after`.

Two real daphne processes share only PostgreSQL and Redis. The operator
stays on process B; the visitor's process A is killed mid-conversation (a
crashed machine, a redeploy); what the operator said meanwhile reaches the
visitor through B's `registered` history after the last id it had, and the
conversation goes on through B. (tests/support/test_two_processes.py covers
the plain cross-process chat.)
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.factories import make_operator, session_cookie
from tests.servers import ServerProcess
from tests.wsclient import next_of, send

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def visitor_socket(server: ServerProcess) -> Any:
    return connect(f"{server.ws_url}/ws/chat/", origin=Origin(server.http_url), open_timeout=10)


async def operator_says(desk: ClientConnection, session_id: str, text: str) -> int:
    client_id = str(uuid.uuid4())
    await send(desk, type="message", session_id=session_id, client_id=client_id, message=text)
    ack = await next_of(desk, "message_ack")
    assert ack["client_id"] == client_id
    return int(ack["id"])


async def test_visitor_resumes_on_the_other_process_after_its_own_died(two_servers):
    process_a, process_b = two_servers
    user = await database_sync_to_async(make_operator)(name="Алия")
    cookie = await database_sync_to_async(session_cookie)(user)

    async with connect(
        f"{process_b.ws_url}/ws/support/",
        origin=Origin(process_b.http_url),
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=10,
    ) as desk:
        await next_of(desk, "queue")

        async with visitor_socket(process_a) as widget:
            await send(widget, type="register")
            registered = await next_of(widget, "registered")
            session_id, token = registered["session_id"], registered["token"]
            await send(widget, type="request_support", reason="Вопрос о туре")
            await next_of(widget, "support_pending")
            await next_of(desk, "new_support_request")
            await send(desk, type="join_support_chat", session_id=session_id)
            await next_of(desk, "support_chat_joined")
            await next_of(widget, "support_joined")

            await operator_says(desk, session_id, "Здравствуйте!")
            seen = await next_of(widget, "operator_message")
            last_seen_id = seen["id"]

            process_a.kill()
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await widget.recv()

        # Said while the visitor had no socket at all.
        missed = [
            await operator_says(desk, session_id, "Тур в Свияжск стоит 3 500 ₽."),
            await operator_says(desk, session_id, "Отправление в 9:00 от Кремля."),
        ]

        async with visitor_socket(process_b) as widget:
            await send(widget, type="register", token=token, after=last_seen_id)
            resumed = await next_of(widget, "registered")
            assert resumed["session_id"] == session_id
            assert resumed["status"] == "operator"
            assert [m["id"] for m in resumed["messages"]] == missed
            assert {m["author"] for m in resumed["messages"]} == {"operator"}

            client_id = str(uuid.uuid4())
            await send(widget, type="message", client_id=client_id, message="Спасибо, беру!")
            assert (await next_of(widget, "message_ack"))["client_id"] == client_id
            relayed = await next_of(desk, "visitor_message")
            assert relayed["session_id"] == session_id
            assert relayed["message"] == "Спасибо, беру!"

            await operator_says(desk, session_id, "Записала вас.")
            assert (await next_of(widget, "operator_message"))["message"] == "Записала вас."
