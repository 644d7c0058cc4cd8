"""Visitor <-> operator: stored first, delivered in order, idempotent, typing both ways."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from chat.models import ChatMessage
from support.models import SupportRequest
from tests.factories import new_client_id
from tests.support.flows import drain, in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def test_messages_go_both_ways_and_are_stored(visitor, operator):
    guest, alia = await in_conversation(visitor, operator, name="Алия")

    client_id = await alia.say(guest.session_id, "Здравствуйте! Чем помочь?")
    ack, _ = await alia.until("message_ack")
    assert ack["client_id"] == client_id
    assert ack["session_id"] == guest.session_id
    answer, _ = await guest.until("operator_message")
    assert answer["message"] == "Здравствуйте! Чем помочь?"
    assert answer["operator"] == {"name": "Алия"}
    assert answer["id"] == ack["id"]

    await guest.say("Можно оплатить картой?")
    visitor_ack, _ = await guest.until("message_ack")
    relayed, _ = await alia.until("visitor_message")
    assert relayed["session_id"] == guest.session_id
    assert relayed["message"] == "Можно оплатить картой?"
    assert relayed["id"] == visitor_ack["id"]

    stored = [m async for m in ChatMessage.objects.order_by("id")]
    # The "operator joined" notice is kept in the history too (a system message).
    assert [m.author for m in stored] == ["visitor", "ai", "system", "operator", "visitor"]
    assert stored[3].operator_id == alia.user_id
    request = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert request.first_reply_at == stored[3].created_at


async def test_the_ai_stays_quiet_while_the_operator_holds_the_chat(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await guest.say("Вы тут?")
    await guest.until("message_ack")
    await alia.until("visitor_message")
    assert await guest.nothing_more(0.5)
    assert await ChatMessage.objects.filter(author="ai").acount() == 1  # the one before


async def test_visitor_messages_while_waiting_are_kept_for_the_operator(visitor, operator):
    alia = await operator()
    guest = await queued_visitor(visitor)
    await guest.say("Я подожду")
    await guest.until("message_ack")
    assert await guest.nothing_more(0.5)  # no AI answer while pending
    await alia.join(guest.session_id)
    joined, _ = await alia.until("support_chat_joined")
    assert joined["messages"][-2]["message"] == "Я подожду"
    assert joined["messages"][-1]["author"] == "system"  # the "joined" notice


async def test_an_operator_retry_is_acknowledged_once_and_stored_once(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    client_id = new_client_id()
    await alia.say(guest.session_id, "Один раз", client_id=client_id)
    first, _ = await alia.until("message_ack")
    await alia.say(guest.session_id, "Один раз", client_id=client_id)
    second, _ = await alia.until("message_ack")
    assert first["id"] == second["id"]
    assert await ChatMessage.objects.filter(author="operator").acount() == 1
    await guest.until("operator_message")
    assert await guest.nothing_more(0.5)


async def test_operator_messages_arrive_in_the_order_they_were_sent(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    texts = [f"Сообщение {n}" for n in range(8)]
    for text in texts:
        await alia.say(guest.session_id, text)
    received: list[dict] = []
    while len(received) < len(texts):
        frame, _ = await guest.until("operator_message")
        received.append(frame)
    assert [f["message"] for f in received] == texts
    assert [f["id"] for f in received] == sorted(f["id"] for f in received)


async def test_only_the_holder_can_write_type_or_close(visitor, operator):
    guest, _ = await in_conversation(visitor, operator)
    bulat = await operator(name="Булат")
    await bulat.say(guest.session_id, "Я тоже тут")
    refused, _ = await bulat.until("error")
    assert refused["code"] == "forbidden"
    await bulat.send({"type": "typing", "session_id": guest.session_id, "typing": True})
    refused, _ = await bulat.until("error")
    assert refused["code"] == "forbidden"
    await bulat.send({"type": "close_chat", "session_id": guest.session_id})
    refused, _ = await bulat.until("error")
    assert refused["code"] == "forbidden"
    assert not await ChatMessage.objects.filter(author="operator").aexists()


async def test_typing_is_relayed_both_ways(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await guest.send({"type": "typing", "typing": True})
    typing, _ = await alia.until("visitor_typing")
    assert typing == {"type": "visitor_typing", "session_id": guest.session_id, "typing": True}
    await alia.send({"type": "typing", "session_id": guest.session_id, "typing": True})
    typing, _ = await guest.until("operator_typing")
    assert typing["typing"] is True
    # The operator does not get their own typing back.
    assert not any(f["type"] == "operator_typing" for f in await drain(alia))


async def test_the_operator_gets_nothing_of_the_visitors_side(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await alia.say(guest.session_id, "Привет")
    await alia.until("message_ack")
    frames = await drain(alia)
    visitor_side = {"ai_chunk", "ai_typing", "ai_response", "support_pending", "operator_message"}
    assert not [f for f in frames if f["type"] in visitor_side]


async def test_a_second_tab_of_the_operator_sees_the_chat_and_its_messages(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    user = await get_user_model().objects.aget(pk=alia.user_id)
    second_tab = await operator(user)
    joined, _ = await second_tab.until("support_chat_joined")
    assert joined["session_id"] == guest.session_id
    await alia.say(guest.session_id, "Из первой вкладки")
    echoed, _ = await second_tab.until("operator_message")
    assert echoed["message"] == "Из первой вкладки"
    # The sending tab gets its ack, never an echo of its own message.
    _, seen = await alia.until("message_ack")
    seen += await drain(alia)
    assert "operator_message" not in [f["type"] for f in seen]
