"""Visitor and operator on two different daphne processes, sharing only Redis and Postgres.

Presence, the queue, the claim, the relay and typing must all cross the
process boundary: this is how the service runs with more than one worker.
"""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import connect
from websockets.typing import Origin

from chat.models import ChatMessage
from support.models import SupportRequest
from tests.factories import make_operator, session_cookie
from tests.wsclient import next_of, send

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


async def test_visitor_and_operator_on_different_processes_chat_both_ways(two_servers):
    visitor_server, operator_server = two_servers
    user = await database_sync_to_async(make_operator)(name="Алия")
    cookie = await database_sync_to_async(session_cookie)(user)

    async with (
        connect(
            f"{operator_server.ws_url}/ws/support/",
            origin=Origin(operator_server.http_url),
            additional_headers={"Cookie": f"sessionid={cookie}"},
            open_timeout=10,
        ) as desk,
        connect(
            f"{visitor_server.ws_url}/ws/chat/",
            origin=Origin(visitor_server.http_url),
            open_timeout=10,
        ) as widget,
    ):
        state = await next_of(desk, "operator_state")
        assert state["operator"]["name"] == "Алия"
        await next_of(desk, "queue")

        await send(widget, type="register")
        session_id = (await next_of(widget, "registered"))["session_id"]
        await send(widget, type="request_support", reason="Два процесса")
        pending = await next_of(widget, "support_pending")  # presence seen across processes
        assert pending["position"] == 1

        request = await next_of(desk, "new_support_request")
        assert request["session_id"] == session_id
        await send(desk, type="join_support_chat", session_id=session_id)
        joined = await next_of(desk, "support_chat_joined")
        assert joined["session_id"] == session_id
        assert (await next_of(widget, "support_joined"))["operator"] == {"name": "Алия"}

        await send(desk, type="typing", session_id=session_id, typing=True)
        assert (await next_of(widget, "operator_typing"))["typing"] is True
        await send(
            desk,
            type="message",
            session_id=session_id,
            client_id=str(uuid.uuid4()),
            message="Здравствуйте, я Алия",
        )
        assert (await next_of(widget, "operator_message"))["message"] == "Здравствуйте, я Алия"

        await send(widget, type="typing", typing=True)
        assert (await next_of(desk, "visitor_typing"))["session_id"] == session_id
        await send(widget, type="message", client_id=str(uuid.uuid4()), message="Спасибо!")
        relayed = await next_of(desk, "visitor_message")
        assert relayed["message"] == "Спасибо!"

        await send(desk, type="close_chat", session_id=session_id)
        closed = await next_of(widget, "chat_closed")
        assert closed["by"] == "operator"
        assert (await next_of(desk, "chat_closed"))["session_id"] == session_id

    authors = [m.author async for m in ChatMessage.objects.order_by("id")]
    assert authors == ["system", "operator", "visitor", "system"]  # joined, ..., ended
    request_row = await SupportRequest.objects.aget()
    assert request_row.status == "closed" and request_row.first_reply_at is not None
