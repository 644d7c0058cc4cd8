"""End to end through the visitor socket: streamed answers with real tours, prices, places."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from chat.ai_reply import CHUNK_FLUSH_SECONDS, lock_key
from chat.models import ChatMessage
from tatartours.redis import get_redis
from tests.ai.conftest import coming_day
from tests.factories import VisitorSocket, make_tour
from tests.fakes.openrouter import FakeOpenRouter, Reply, ToolCall, tour_assistant
from tours.models import Tour

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def june(transactional_db: None) -> dict[str, Tour]:
    return {
        "kremlin": make_tour(
            title="Кремль в июне", start_date=coming_day(6, 8), price_per_person=Decimal(2500)
        ),
        "sviyazhsk": make_tour(
            title="Свияжск летом",
            place="Свияжск",
            start_date=coming_day(6, 21),
            price_per_person=Decimal(3200),
            max_participants=30,
            places_booked=12,
        ),
    }


async def ask(socket: VisitorSocket, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Say `text`; the AI answer and every frame up to the end of typing."""
    await socket.say(text)
    ack = await socket.expect("message_ack")
    response, frames = await socket.until("ai_response", timeout=15)
    assert response["reply_to"] == ack["id"]
    typing_off, more = await socket.until("ai_typing")
    assert typing_off["typing"] is False
    return response, frames + more


def chunks_of(frames: list[dict[str, Any]], reply_to: int) -> str:
    return "".join(
        f["text"] for f in frames if f["type"] == "ai_chunk" and f["reply_to"] == reply_to
    )


async def test_visitor_on_a_tour_page_gets_real_tours_prices_and_places(
    visitor, fake_openrouter: FakeOpenRouter, june
):
    fake_openrouter.responder = tour_assistant
    fake_openrouter.tokens_per_second = 200
    socket = await visitor(tour=june["sviyazhsk"].slug)

    response, frames = await ask(socket, "Какие туры есть в июне?")
    assert "«Кремль в июне»" in response["message"]
    assert "2 500 ₽ с человека" in response["message"]
    assert "«Свияжск летом»" in response["message"]
    assert [f["type"] for f in frames].count("ai_chunk") >= 1
    assert chunks_of(frames, response["reply_to"]).strip() == response["message"]
    assert response["source"] == "model"

    response, frames = await ask(socket, "сколько стоит и есть ли места?")
    assert "3 200 ₽ с человека" in response["message"]
    assert "свободных мест: 18" in response["message"]
    assert chunks_of(frames, response["reply_to"]).strip() == response["message"]

    stored = await ChatMessage.objects.filter(author="ai").order_by("id").alast()
    assert stored is not None
    assert stored.ai_model == "openai/gpt-4"
    assert stored.ai_first_token_ms is not None
    assert stored.ai_prompt_tokens and stored.ai_completion_tokens
    assert stored.ai_cost is not None
    assert stored.meta["tools"] == ["get_tour"]
    assert stored.meta["tour_slugs"] == [june["sviyazhsk"].slug]


async def test_messages_sent_during_a_generation_are_answered_together(
    visitor, fake_openrouter: FakeOpenRouter
):
    fake_openrouter.first_token_delay = 3.0  # room to send two more messages meanwhile
    socket = await visitor()
    await socket.say("Первый вопрос про Казань")
    first_ack = await socket.expect("message_ack")
    await asyncio.to_thread(fake_openrouter.wait_for_requests, 1)

    await socket.say("Второй: а про Свияжск?")
    await socket.say("Третий: и про Болгар")
    responses: list[dict[str, Any]] = []
    acks: list[dict[str, Any]] = []
    while len(responses) < 2:
        frame = await socket.receive(timeout=15)
        if frame["type"] == "ai_response":
            responses.append(frame)
        elif frame["type"] == "message_ack":
            acks.append(frame)
    assert responses[0]["reply_to"] == first_ack["id"]
    assert responses[1]["reply_to"] == acks[-1]["id"]  # the newest of the two

    first, second = fake_openrouter.completions
    asked = [m["content"] for m in second.messages if m["role"] == "user"]
    assert asked[-2:] == ["Второй: а про Свияжск?", "Третий: и про Болгар"]
    assert "Первый вопрос про Казань" in [m["content"] for m in first.messages]
    typing_off, _ = await socket.until("ai_typing")
    assert typing_off["typing"] is False
    assert await socket.nothing_more(1.0)
    assert await ChatMessage.objects.filter(author="ai").acount() == 2


async def test_visitor_leaving_cancels_the_upstream_request(
    visitor, fake_openrouter: FakeOpenRouter
):
    fake_openrouter.tokens_per_second = 4
    socket = await visitor()
    await socket.say("Расскажите подробно про Елабугу")
    await socket.until("ai_chunk")
    await socket.close()
    recorded = fake_openrouter.last
    await asyncio.to_thread(fake_openrouter.wait_until, lambda: recorded.client_closed)
    assert await ChatMessage.objects.filter(author="ai").acount() == 0


async def test_the_models_handoff_puts_the_chat_in_the_operator_queue(
    visitor, fake_openrouter: FakeOpenRouter
):
    fake_openrouter.script(
        Reply(tool_calls=[ToolCall("handoff_to_operator", {"reason": "просит менеджера"})]),
        "Передаю разговор оператору.",
    )
    socket = await visitor()
    response, _ = await ask(socket, "Мне нужно изменить бронь, сделайте что-нибудь")
    assert response["message"] == "Передаю разговор оператору."
    frame = await socket.receive(timeout=10)
    while frame["type"] not in {"support_pending", "support_unavailable"}:
        frame = await socket.receive(timeout=10)
    stored = await ChatMessage.objects.filter(author="ai").alast()
    assert stored is not None and stored.meta["handoff"] is True


async def test_without_a_key_the_visitor_gets_the_knowledge_base_answer(visitor, settings, june):
    settings.OPENROUTER_API_KEY = ""
    socket = await visitor(tour=june["kremlin"].slug)
    response, _ = await ask(socket, "сколько стоит и есть ли места?")
    assert response["source"] == "offline"
    assert "Тур «Кремль в июне»" in response["message"]
    assert "2\u00a0500\u00a0₽ с человека, свободных мест: 15" in response["message"]
    await sync_to_async(Tour.objects.filter(pk=june["kremlin"].pk).update)(places_booked=20)
    response, _ = await ask(socket, "а сейчас есть места?")
    assert "свободных мест: 0" in response["message"]


async def test_streamed_text_is_coalesced_into_one_frame_per_window(
    visitor, fake_openrouter: FakeOpenRouter
):
    words = [f"слово{n} " for n in range(60)]
    fake_openrouter.script("".join(words))
    fake_openrouter.tokens_per_second = 100  # a token every 10 ms for about 0.6 s
    socket = await visitor()
    await socket.say("Расскажите подробно")
    ack = await socket.expect("message_ack")
    first_chunk, _ = await socket.until("ai_chunk")
    started = time.monotonic()
    response, frames = await socket.until("ai_response", timeout=15)
    elapsed = time.monotonic() - started
    chunks = [first_chunk, *(f for f in frames if f["type"] == "ai_chunk")]
    assert "".join(c["text"] for c in chunks) == "".join(words)
    assert response["reply_to"] == ack["id"]
    # About one frame per CHUNK_FLUSH_SECONDS of stream, never one per token.
    assert 2 <= len(chunks) <= elapsed / CHUNK_FLUSH_SECONDS + 2
    assert len(chunks) <= len(words) / 3


async def test_the_lock_is_free_when_the_visitor_reads_the_end_of_typing(visitor, fake_openrouter):
    """The generation lock is released beside the announcement (chat.ai_reply), not
    after it: a question sent as soon as `ai_typing` false arrives never finds the
    previous round's lock and waits a LOCK_POLL_SECONDS poll for its answer."""
    socket = await visitor()
    await ask(socket, "Первый вопрос")
    key = lock_key(socket.registered["session_id"])
    assert await get_redis().exists(key) == 0
    response, _ = await ask(socket, "Второй вопрос")
    assert response["message"]
