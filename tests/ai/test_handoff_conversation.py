"""The conversation around a handoff, through a real daphne and real WebSockets.

- After an operator closes, the AI answers only what was addressed to it,
  not what the visitor wrote to the operator.
- The AI's words about a handoff follow what actually happens: queued (with
  the place in the queue), or nobody online (leave a contact in the form).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from chat.models import ChatMessage
from tests.ai.conftest import coming_day
from tests.factories import make_operator, make_tour, session_cookie
from tests.fakes.openrouter import FakeOpenRouter, Reply, ToolCall, tour_assistant
from tests.faults.infra import app_failures
from tests.servers import (
    ServerProcess,
    start_daphne,
    start_daphne_with_model,
    wait_for_database_quiet,
)
from tests.wsclient import next_of, send
from tours.demo_faq import load_demo_faq

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

TO_OPERATOR = "Хочу забронировать на двоих 21 декабря"
TO_AI = "А есть туры в Болгар?"


@pytest.fixture
def tours(transactional_db: None) -> None:
    load_demo_faq()
    make_tour(title="Остров-град Свияжск", place="Свияжск", start_date=coming_day(12, 21))
    make_tour(
        title="Великий Болгар",
        place="Болгар",
        start_date=coming_day(12, 27),
        price_per_person=Decimal(4100),
    )


@pytest.fixture(scope="module")
def shared_model() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(api_key="test-key", tokens_per_second=400) as fake:
        yield fake


@pytest.fixture
def model(shared_model: FakeOpenRouter) -> FakeOpenRouter:
    shared_model.reset()
    shared_model.responder = tour_assistant
    return shared_model


def stop(process: ServerProcess) -> None:
    process.stop()
    assert app_failures(process.log()) == []


# One daphne for the module (it keeps no state a test could leave behind:
# the database is emptied and Redis flushed between tests).
@pytest.fixture(scope="module")
def shared_server(shared_model: FakeOpenRouter) -> Iterator[ServerProcess]:
    process = start_daphne_with_model(shared_model.base_url)
    yield process
    stop(process)


@pytest.fixture
def server(
    shared_server: ServerProcess, model: FakeOpenRouter, tours: None
) -> Iterator[ServerProcess]:
    yield shared_server
    # The shared server may still be finishing a closed socket's work.
    wait_for_database_quiet()


@pytest.fixture
def offline_server(tours: None) -> Iterator[ServerProcess]:
    process = start_daphne(None, None, OPENROUTER_API_KEY="")
    yield process
    stop(process)


@asynccontextmanager
async def widget(server: ServerProcess) -> AsyncIterator[tuple[ClientConnection, str]]:
    async with connect(
        f"{server.ws_url}/ws/chat/", origin=Origin(server.http_url), open_timeout=10
    ) as ws:
        await send(ws, type="register")
        yield ws, (await next_of(ws, "registered"))["session_id"]


@asynccontextmanager
async def desk(server: ServerProcess) -> AsyncIterator[ClientConnection]:
    user = await database_sync_to_async(make_operator)(name="Алия")
    cookie = await database_sync_to_async(session_cookie)(user)
    async with connect(
        f"{server.ws_url}/ws/support/",
        origin=Origin(server.http_url),
        additional_headers={"Cookie": f"sessionid={cookie}"},
        open_timeout=10,
    ) as ws:
        await next_of(ws, "queue")
        yield ws


async def say(ws: ClientConnection, text: str, n: int) -> int:
    """Send a message; its stored id (from the ack)."""
    await send(ws, type="message", client_id=f"00000000-0000-4000-8000-{n:012d}", message=text)
    return int((await next_of(ws, "message_ack"))["id"])


async def after_an_operator_conversation(
    server: ServerProcess, ws: ClientConnection, session_id: str
) -> int:
    """The visitor writes TO_OPERATOR to an operator, who closes; then asks TO_AI.

    Returns the id of the TO_AI message."""
    async with desk(server) as operator:
        await send(ws, type="request_support", reason="Хочу живого человека")
        await next_of(ws, "support_pending")
        await next_of(operator, "new_support_request")
        await send(operator, type="join_support_chat", session_id=session_id)
        await next_of(operator, "support_chat_joined")
        await next_of(ws, "support_joined")
        await say(ws, TO_OPERATOR, 1)
        await next_of(operator, "visitor_message")
        await send(operator, type="close_chat", session_id=session_id)
        await next_of(ws, "chat_closed")
    return await say(ws, TO_AI, 2)


async def test_after_the_operator_closes_the_model_is_asked_only_the_new_question(server, model):
    async with widget(server) as (ws, session_id):
        asked = await after_an_operator_conversation(server, ws, session_id)
        response = await next_of(ws, "ai_response", timeout=30)
    assert response["reply_to"] == asked
    users = [m["content"] for m in model.last.messages if m["role"] == "user"]
    assert users[-1] == TO_AI
    assert users[-2] == f"(оператору) {TO_OPERATOR}"  # history, marked as not for the AI
    answers = ChatMessage.objects.filter(author="ai")
    assert [m.reply_to_id async for m in answers] == [asked]  # nothing for TO_OPERATOR


async def test_after_the_operator_closes_the_offline_answer_is_about_the_new_question(
    offline_server,
):
    async with widget(offline_server) as (ws, session_id):
        asked = await after_an_operator_conversation(offline_server, ws, session_id)
        response = await next_of(ws, "ai_response", timeout=30)
    assert response["reply_to"] == asked
    assert response["source"] == "offline"
    assert "Великий Болгар" in response["message"]
    # Nothing of what was written to the operator: not its date, not its tour.
    assert "21 декабря" not in response["message"]
    assert "Свияжск" not in response["message"]


async def test_with_nobody_online_the_ai_asks_for_a_contact_instead_of_promising_a_person(
    server, model
):
    async with widget(server) as (ws, _session_id):
        await say(ws, "Хочу поговорить с менеджером", 1)
        unavailable = await next_of(ws, "support_unavailable")
        assert unavailable["offline_form"] is True
        response = await next_of(ws, "ai_response", timeout=30)
    tool_result = json.loads(model.last.messages[-1]["content"])
    assert tool_result["handoff"] is False
    assert tool_result["status"] == "no_operators"
    assert "Передаю" not in response["message"]
    assert "в форме" in response["message"]


async def test_a_handoff_with_an_operator_online_tells_the_place_in_the_queue(server, model):
    model.script(Reply(tool_calls=[ToolCall("handoff_to_operator", {"reason": "группа"})]))
    async with desk(server), widget(server) as (ws, _session_id):
        await say(ws, "У меня сложный вопрос про поездку группой из 40 человек", 1)
        response = await next_of(ws, "ai_response", timeout=30)
        pending = await next_of(ws, "support_pending")
    tool_result = json.loads(model.last.messages[-1]["content"])
    assert tool_result == {**tool_result, "handoff": True, "queue_position": 1}
    assert "Передаю разговор оператору" in response["message"]
    assert "1-й в очереди" in response["message"]
    assert pending["position"] == 1
