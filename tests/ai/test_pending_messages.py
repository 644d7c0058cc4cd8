"""Which visitor messages still wait for the AI, and in what order the model reads the chat."""

from __future__ import annotations

import pytest

from ai.types import AIAnswer
from chat import actions
from chat.models import ChatMessage
from chat.publish import run_action
from tests.ai.conftest import start_chat
from tests.factories import new_client_id

pytestmark = pytest.mark.django_db(transaction=True)


async def say(session_pk: int, text: str) -> ChatMessage:
    posted = await run_action(
        actions.post_visitor_message, session_pk=session_pk, client_id=new_client_id(), text=text
    )
    return posted.message


async def test_a_message_sent_while_answering_still_waits_for_its_answer():
    request = await start_chat("Первый вопрос")
    second = await say(request.session_pk, "Второй вопрос")  # arrives mid-generation
    await run_action(
        actions.store_ai_answer,
        session_pk=request.session_pk,
        reply_to=request.reply_to,
        answer=AIAnswer(text="Ответ на первый", source="model"),
    )
    pending = await run_action(actions.prepare_ai_reply, request.session_pk)
    assert pending is not None
    assert pending.reply_to == second.id
    # The answer sits right after the question it answered.
    assert [(h.role, h.text) for h in pending.history] == [
        ("user", "Первый вопрос"),
        ("assistant", "Ответ на первый"),
        ("user", "Второй вопрос"),
    ]


async def test_nothing_waits_once_the_newest_message_is_answered():
    request = await start_chat("Первый", "Второй")
    await run_action(
        actions.store_ai_answer,
        session_pk=request.session_pk,
        reply_to=request.reply_to,
        answer=AIAnswer(text="Ответ на оба", source="model"),
    )
    assert await run_action(actions.prepare_ai_reply, request.session_pk) is None
