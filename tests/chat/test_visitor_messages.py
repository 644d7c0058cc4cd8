"""Visitor messages: stored before anything else, acked, idempotent, seen by every tab."""

from __future__ import annotations

import pytest

from chat.models import ChatMessage
from tests.factories import new_client_id

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_same_client_id_twice_stores_one_message_and_one_answer(visitor):
    socket = await visitor()
    client_id = new_client_id()
    await socket.say("Сколько стоит тур в Свияжск?", client_id=client_id)
    first_ack = await socket.expect("message_ack")
    await socket.until("ai_response")
    await socket.until("ai_typing")

    await socket.say("Сколько стоит тур в Свияжск?", client_id=client_id)  # a retry
    second_ack = await socket.expect("message_ack")
    assert second_ack == first_ack
    assert await socket.nothing_more(timeout=1.0)
    assert await ChatMessage.objects.filter(author="visitor").acount() == 1
    assert await ChatMessage.objects.filter(author="ai").acount() == 1


async def test_a_retry_from_a_new_socket_gets_the_same_ack(visitor):
    first = await visitor()
    client_id = await first.say("Вопрос до обрыва связи")
    ack = await first.expect("message_ack")
    await first.close()

    again = await visitor(token=first.token, after=ack["id"])
    await again.say("Вопрос до обрыва связи", client_id=client_id)
    frame, _ = await again.until("message_ack")
    assert frame["id"] == ack["id"]
    assert await ChatMessage.objects.filter(author="visitor").acount() == 1


async def test_the_same_client_id_with_another_text_is_refused(visitor):
    socket = await visitor()
    client_id = await socket.say("Первый текст")
    await socket.expect("message_ack")
    await socket.until("ai_typing")
    await socket.say("Совсем другой текст", client_id=client_id)
    error, _ = await socket.until("error")
    assert error["code"] == "invalid"
    assert error["client_id"] == client_id
    assert await ChatMessage.objects.filter(author="visitor").acount() == 1


async def test_message_text_is_trimmed_before_storing(visitor):
    socket = await visitor()
    await socket.say("   Привет, Казань!  \n")
    ack = await socket.expect("message_ack")
    stored = await ChatMessage.objects.aget(id=ack["id"])
    assert stored.text == "Привет, Казань!"


async def test_another_tab_of_the_same_visitor_sees_the_conversation_live(visitor):
    tab1 = await visitor()
    tab2 = await visitor(token=tab1.token)
    client_id = await tab1.say("Пишу из первой вкладки")
    ack = await tab1.expect("message_ack")

    echo, _ = await tab2.until("visitor_message")
    assert echo["id"] == ack["id"]
    assert echo["client_id"] == client_id
    assert echo["message"] == "Пишу из первой вкладки"
    response, _ = await tab2.until("ai_response")
    assert response["reply_to"] == ack["id"]

    # The sending tab gets its ack, not an echo of its own message.
    _, seen = await tab1.until("ai_response")
    assert "visitor_message" not in [f["type"] for f in seen]


async def test_another_tab_sees_quick_messages_in_the_order_they_were_sent(visitor):
    """The sender's ack does not wait for the other tabs' copy (chat.publish.publish_soon);
    those copies still leave in order."""
    tab1 = await visitor()
    tab2 = await visitor(token=tab1.token)
    texts = ["Первый вопрос", "Второй вопрос", "Третий вопрос"]
    for text in texts:
        await tab1.say(text)
    acks = [(await tab1.until("message_ack"))[0]["id"] for _ in texts]
    echoes = [(await tab2.until("visitor_message"))[0] for _ in texts]
    assert [e["message"] for e in echoes] == texts
    assert [e["id"] for e in echoes] == acks == sorted(acks)


async def test_ai_typing_is_always_closed_by_typing_false(visitor):
    socket = await visitor()
    await socket.say("Расскажите про Болгар")
    await socket.expect("message_ack")
    _, seen = await socket.until("ai_response")
    typing_off, after = await socket.until("ai_typing")
    typing = [f["typing"] for f in seen + after if f["type"] == "ai_typing"]
    assert typing == [True, False]
    assert typing_off["typing"] is False
