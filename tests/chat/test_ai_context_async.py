"""The AI's context read on the event loop's pool is the one the sync action reads.

`actions.do_prepare_ai_reply` (chat.ai_reply reads the context with it, off
the DB thread) must return exactly what `actions.prepare_ai_reply` returns,
in every state a chat can be in.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import psycopg
import pytest
from asgiref.sync import sync_to_async

from ai.types import AIAnswer, AIRequest
from chat import actions
from chat.events import ai_response_frame, session_group
from chat.message_rows import ai_answer_statement
from chat.models import ChatMessage, ChatSession
from chat.publish import run_action
from tatartours import async_db
from tests.ai.conftest import start_chat
from tests.factories import make_tour, new_client_id
from tests.servers import until_a_statement_waits_for_a_lock
from tours.models import Tour

pytestmark = pytest.mark.django_db(transaction=True)


async def both(session_pk: int) -> AIRequest | None:
    sync = await run_action(actions.prepare_ai_reply, session_pk)
    assert await actions.do_prepare_ai_reply(session_pk) == sync
    return sync


async def post(session_pk: int, text: str) -> None:
    await run_action(
        actions.post_visitor_message, session_pk=session_pk, client_id=new_client_id(), text=text
    )


async def test_a_new_question_on_a_tour_page():
    tour = await sync_to_async(make_tour)(title="Елабуга", max_participants=18, places_booked=10)
    request = await start_chat("Сколько стоит?", "И сколько мест?", tour=tour)
    found = await both(request.session_pk)
    assert found is not None and found.tour is not None and found.tour.free_places == 8
    assert found.knowledge_stamp


async def test_answered_drafts_and_nothing_pending():
    draft = await sync_to_async(make_tour)(title="Секрет", status=Tour.Status.DRAFT)
    request = await start_chat("Привет", tour=draft)
    found = await both(request.session_pk)
    assert found is not None and found.tour is None
    await run_action(
        actions.store_ai_answer,
        session_pk=request.session_pk,
        reply_to=request.reply_to,
        answer=AIAnswer(text="Здравствуйте!", source="model"),
    )
    assert await both(request.session_pk) is None
    await post(request.session_pk, "А что есть на выходные?")
    assert await both(request.session_pk) is not None


async def test_after_an_operator_conversation_and_with_an_operator():
    request = await start_chat("Позовите оператора")

    def operator_answers_and_closes(status: str) -> None:
        session = ChatSession.objects.get(pk=request.session_pk)
        ChatMessage.objects.create(session=session, author=ChatMessage.Author.OPERATOR, text="Да")
        ChatSession.objects.filter(pk=session.pk).update(status=status)

    await sync_to_async(operator_answers_and_closes)(ChatSession.Status.OPERATOR)
    await post(request.session_pk, "Спасибо")
    assert await both(request.session_pk) is None  # an operator holds the chat
    await sync_to_async(ChatSession.objects.filter(pk=request.session_pk).update)(
        status=ChatSession.Status.CLOSED
    )
    await post(request.session_pk, "А ещё вопрос")
    found = await both(request.session_pk)
    assert found is not None and [h.author for h in found.history][-1] == "visitor"


async def test_a_missing_session():
    with pytest.raises(ChatSession.DoesNotExist):
        await actions.do_prepare_ai_reply(10**9)


ANSWER = AIAnswer(
    text="Здравствуйте! Вот что есть.",
    source="model",
    model="openai/gpt-4",
    generation_id="gen-1",
    latency_ms=900,
    first_token_ms=210,
    prompt_tokens=120,
    completion_tokens=31,
    cost=Decimal("0.00042"),
    meta={"mode": "tools", "tools": ["search_tours"], "faq_ids": [1]},
)
SAME = [
    f.attname for f in ChatMessage._meta.concrete_fields if f.attname not in {"id", "created_at"}
]


def row(message_id: int) -> dict[str, object]:
    return ChatMessage.objects.filter(pk=message_id).values(*SAME).get()


async def test_the_answer_is_stored_as_the_sync_action_stores_it():
    sync_chat = await start_chat("Привет")
    async_chat = await start_chat("Привет")
    by_sync = await run_action(
        actions.store_ai_answer,
        session_pk=sync_chat.session_pk,
        reply_to=sync_chat.reply_to,
        answer=ANSWER,
    )
    by_async, events = await actions.do_store_ai_answer(
        session_pk=async_chat.session_pk,
        session_public_id=str(async_chat.session_public_id),
        reply_to=async_chat.reply_to,
        answer=ANSWER,
    )
    assert by_sync is not None and by_async is not None
    one, other = await sync_to_async(row)(by_sync.pk), await sync_to_async(row)(by_async.pk)
    assert {**one, "session_id": 0, "reply_to_id": 0} == {
        **other,
        "session_id": 0,
        "reply_to_id": 0,
    }
    assert events == [(session_group(async_chat.session_public_id), ai_response_frame(by_async))]
    stored = await ChatMessage.objects.aget(pk=by_async.pk)
    assert ai_response_frame(stored) == ai_response_frame(by_async)
    session = await ChatSession.objects.aget(pk=async_chat.session_pk)
    assert session.ai_tokens_used == 151
    assert session.last_activity_at == stored.created_at


async def test_the_answer_hands_a_closed_chat_back_and_never_follows_a_takeover():
    request = await start_chat("Привет")
    await ChatSession.objects.filter(pk=request.session_pk).aupdate(
        status=ChatSession.Status.CLOSED
    )
    stored, _ = await actions.do_store_ai_answer(
        session_pk=request.session_pk,
        session_public_id=str(request.session_public_id),
        reply_to=request.reply_to,
        answer=ANSWER,
    )
    assert stored is not None
    session = await ChatSession.objects.aget(pk=request.session_pk)
    assert session.status == ChatSession.Status.AI
    # Answered already: a second generation's answer is dropped.
    again, events = await actions.do_store_ai_answer(
        session_pk=request.session_pk,
        session_public_id=str(request.session_public_id),
        reply_to=request.reply_to,
        answer=ANSWER,
    )
    assert (again, events) == (None, [])
    later = await start_chat("Позовите оператора")
    await ChatSession.objects.filter(pk=later.session_pk).aupdate(
        status=ChatSession.Status.OPERATOR
    )
    assert await actions.do_store_ai_answer(
        session_pk=later.session_pk,
        session_public_id=str(later.session_public_id),
        reply_to=later.reply_to,
        answer=ANSWER,
    ) == (None, [])
    assert not await ChatMessage.objects.filter(
        session_id=later.session_pk, author=ChatMessage.Author.AI
    ).aexists()


async def test_an_answer_committed_while_waiting_for_the_lock_is_seen():
    """Another generation (another tab or process) stores its answer to the same
    question in a transaction still open: this one, queued behind the session
    row, must see that answer once it commits, and store nothing."""
    request = await start_chat("Привет")
    other = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    watcher = await psycopg.AsyncConnection.connect(**async_db.connection_kwargs())
    first = ChatMessage(
        session_id=request.session_pk,
        author=ChatMessage.Author.AI,
        text="Первый ответ",
        reply_to_id=request.reply_to,
        ai_source="model",
    )
    try:
        await other.set_autocommit(False)
        sql, params = ai_answer_statement(first, tokens=0)
        await other.execute(sql, params)
        late = asyncio.ensure_future(
            actions.do_store_ai_answer(
                session_pk=request.session_pk,
                session_public_id=str(request.session_public_id),
                reply_to=request.reply_to,
                answer=ANSWER,
            )
        )
        # Until the late store waits for the row lock.
        await until_a_statement_waits_for_a_lock(watcher, timeout=10)
        await other.commit()
        assert await late == (None, [])
    finally:
        await other.close()
        await watcher.close()
    texts = [
        m.text
        async for m in ChatMessage.objects.filter(
            session_id=request.session_pk, author=ChatMessage.Author.AI
        )
    ]
    assert texts == ["Первый ответ"]
