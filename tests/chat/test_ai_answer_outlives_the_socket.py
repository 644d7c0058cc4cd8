"""An answer that is complete is stored and announced even if its socket closes meanwhile.

The visitor's socket closing cancels its AI task. Cancelled between the
commit of the answer and its publish, the answer used to be stored but never
announced: a tab that had registered again meanwhile (its history read
before the commit) never showed it, and its own AI task found nothing left to
answer (seen once in CI: tests/browser/test_connection_cuts.py, "ack lost on
the way back"). Storing and announcing are now one unit the cancellation
cannot cut (chat/ai_reply.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from channels.layers import get_channel_layer

from chat.ai_reply import answer_pending
from chat.events import session_group
from chat.models import ChatMessage
from tatartours import async_db
from tests.ai.conftest import start_chat
from tests.servers import until_a_statement_waits_for_a_lock

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_answer_being_stored_when_the_socket_closes_is_stored_and_announced_once():
    request = await start_chat("Привет! Когда открыт Кремль?")
    layer = get_channel_layer()
    assert layer is not None
    other_tab = await layer.new_channel()
    await layer.group_add(session_group(request.session_public_id), other_tab)
    sent_to_asking_socket: list[dict[str, Any]] = []

    async def send(frame: dict[str, Any]) -> None:
        sent_to_asking_socket.append(frame)

    holder = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    watcher = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    try:
        # Hold the session row, so that the answer's store waits inside its statement.
        await holder.set_autocommit(False)
        await holder.execute(
            "SELECT 1 FROM chat_chatsession WHERE id = %s FOR UPDATE", [request.session_pk]
        )
        task = asyncio.create_task(
            answer_pending(request.session_pk, owner="closing-socket", send=send, request=request)
        )
        await until_a_statement_waits_for_a_lock(watcher, timeout=15)
        task.cancel()  # The visitor's socket closes (VisitorConsumer._release_session).
        with pytest.raises(asyncio.CancelledError):
            await task
        await holder.commit()

        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(10):
            while not any(f["type"] == "ai_response" for f in frames):
                event = await layer.receive(other_tab)
                frames += [event["frame"], *event.get("more", [])]
    finally:
        await holder.close()
        await watcher.close()

    answers = [
        m.id
        async for m in ChatMessage.objects.filter(
            session_id=request.session_pk, author=ChatMessage.Author.AI
        )
    ]
    announced = [f for f in frames if f["type"] == "ai_response"]
    assert len(answers) == 1 and [f["id"] for f in announced] == answers
    assert announced[0]["reply_to"] == request.reply_to
