"""Ending an operator conversation, and handing it to another operator."""

from __future__ import annotations

import pytest

from chat.models import ChatMessage, ChatSession, Rating
from support.models import SupportRequest
from tests.support.flows import drain, in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def test_closing_asks_for_a_rating_and_returns_the_chat_to_the_ai(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await alia.say(guest.session_id, "Всего доброго!")
    await guest.until("operator_message")
    await alia.send({"type": "close_chat", "session_id": guest.session_id})

    closed, _ = await guest.until("chat_closed")
    assert closed["by"] == "operator"
    assert closed["ask_rating"] is True
    assert closed["message"]
    operator_side, _ = await alia.until("chat_closed")
    assert operator_side == {
        "type": "chat_closed",
        "session_id": guest.session_id,
        "by": "operator",
        "reason": "closed",
    }
    request = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert (request.status, request.closed_by) == ("closed", "operator")
    assert request.closed_at is not None
    assert (await ChatSession.objects.aget(public_id=guest.session_id)).status == "closed"

    await guest.send({"type": "rate", "score": 5, "comment": "Спасибо, Алия"})
    await guest.until("rated")
    rating = await Rating.objects.aget()
    assert rating.support_request_id == request.pk

    # The AI answers again, and the operator no longer receives the chat.
    await guest.say("А ещё вопрос")
    await guest.until("ai_response")
    assert not [f for f in await drain(alia) if f.get("session_id") == guest.session_id]


async def test_the_visitor_can_end_the_conversation(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await guest.send({"type": "end_support"})
    closed, _ = await guest.until("chat_closed")
    assert closed["by"] == "visitor"
    operator_side, _ = await alia.until("chat_closed")
    assert operator_side["by"] == "visitor"
    request = await SupportRequest.objects.aget()
    assert (request.status, request.closed_by) == ("closed", "visitor")


async def test_the_visitor_can_leave_the_queue(visitor, operator):
    alia = await operator()
    guest = await queued_visitor(visitor)
    await alia.until("new_support_request")
    await guest.send({"type": "end_support"})
    closed, _ = await guest.until("chat_closed")
    assert closed["ask_rating"] is False
    taken, _ = await alia.until("support_request_taken")
    assert taken["operator"] is None and taken["reason"] == "cancelled"
    request = await SupportRequest.objects.aget()
    assert (request.status, request.closed_by) == ("abandoned", "visitor")
    assert (await ChatSession.objects.aget(public_id=guest.session_id)).status == "ai"


async def test_a_chat_can_be_transferred_to_another_online_operator(visitor, operator):
    guest, alia = await in_conversation(visitor, operator, name="Алия")
    bulat = await operator(name="Булат")
    await alia.send(
        {"type": "transfer_chat", "session_id": guest.session_id, "operator_id": bulat.user_id}
    )
    joined, _ = await bulat.until("support_chat_joined")
    assert joined["session_id"] == guest.session_id
    assert joined["transferred_from"] == "Алия"
    gone, _ = await alia.until("chat_transferred")
    assert gone["operator"]["name"] == "Булат"
    told, _ = await guest.until("support_joined")
    assert told["operator"] == {"name": "Булат"} and told["transferred"] is True

    await bulat.say(guest.session_id, "Я продолжу")
    await bulat.until("message_ack")
    await alia.say(guest.session_id, "А я уже нет")
    refused, _ = await alia.until("error")
    assert refused["code"] == "forbidden"
    request = await SupportRequest.objects.aget()
    assert request.operator_id == bulat.user_id
    assert await ChatMessage.objects.filter(operator_id=bulat.user_id).acount() == 1


async def test_a_chat_cannot_be_transferred_to_an_away_or_full_operator(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    bulat = await operator(name="Булат")
    await bulat.send({"type": "set_status", "status": "away"})
    await bulat.until("operator_status")
    await alia.send(
        {"type": "transfer_chat", "session_id": guest.session_id, "operator_id": bulat.user_id}
    )
    refused, _ = await alia.until("error")
    assert refused["code"] == "invalid"
    request = await SupportRequest.objects.aget()
    assert request.operator_id == alia.user_id
