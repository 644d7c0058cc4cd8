"""What the visitor is told about operators stays in the chat's history.

An operator joining, taking over and the conversation ending are stored as
system messages; the live frame carries the stored message as `notice`, and
a reload (`register` with the token) returns the same messages in order.
"""

from __future__ import annotations

import pytest

from chat.models import ChatMessage
from tests.support.flows import in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def test_join_transfer_and_close_come_back_after_a_reload(visitor, operator):
    guest, alia = await in_conversation(visitor, operator, name="Алия")
    bulat = await operator(name="Булат")
    await alia.send(
        {"type": "transfer_chat", "session_id": guest.session_id, "operator_id": bulat.user_id}
    )
    taken_over, _ = await guest.until("support_joined")
    await bulat.until("support_chat_joined")
    await bulat.send({"type": "close_chat", "session_id": guest.session_id})
    closed, _ = await guest.until("chat_closed")

    system = [
        (m.id, m.text) async for m in ChatMessage.objects.filter(author="system").order_by("id")
    ]
    assert [text for _, text in system] == [
        "Алия подключается к чату.",
        "Разговор продолжает Булат.",
        "Оператор завершил разговор. Пожалуйста, оцените, как мы вам помогли. "
        "На ваши вопросы снова отвечает ИИ-ассистент.",
    ]
    # The live frames carry those very messages (one id: shown once by the widget).
    assert (taken_over["notice"]["id"], taken_over["notice"]["message"]) == system[1]
    assert taken_over["notice"]["author"] == "system"
    assert (closed["notice"]["id"], closed["message"]) == (system[2][0], system[2][1])

    again = await visitor(token=guest.token)
    history = [(m["author"], m["message"]) for m in again.registered["messages"]]
    assert history == [
        ("visitor", "Сколько стоит тур?"),
        ("ai", history[1][1]),
        ("system", system[0][1]),
        ("system", system[1][1]),
        ("system", system[2][1]),
    ]


async def test_leaving_the_queue_is_kept_too_and_the_ai_answers_next(visitor, operator):
    await operator()
    guest = await queued_visitor(visitor)
    await guest.send({"type": "end_support"})
    closed, _ = await guest.until("chat_closed")
    assert closed["notice"]["message"] == closed["message"]

    # The notice is not a question: the AI answers the next visitor message as usual.
    await guest.say("А ещё вопрос")
    answer, _ = await guest.until("ai_response")
    assert answer["message"]
    again = await visitor(token=guest.token)
    authors = [m["author"] for m in again.registered["messages"]]
    assert authors == ["visitor", "ai", "system", "visitor", "ai"]
