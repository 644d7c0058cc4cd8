"""Reloads: the operator gets their chats back, the visitor their place or operator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from support.models import SupportRequest
from tests.factories import VisitorSocket
from tests.support.flows import in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_operator_who_reloads_gets_their_chats_back(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    await guest.say("Сообщение до перезагрузки")
    await alia.until("visitor_message")
    await alia.close()

    user = await get_user_model().objects.aget(pk=alia.user_id)
    reloaded = await operator(user)
    joined, _ = await reloaded.until("support_chat_joined")
    assert joined["session_id"] == guest.session_id
    assert joined["messages"][-1]["message"] == "Сообщение до перезагрузки"

    await guest.say("И после")
    relayed, _ = await reloaded.until("visitor_message")
    assert relayed["message"] == "И после"


async def test_a_waiting_visitor_who_reloads_is_told_their_position(visitor, operator):
    await operator()
    guest = await queued_visitor(visitor)
    reloaded = await VisitorSocket.open()
    try:
        registered = await reloaded.register(token=guest.token)
        assert registered["status"] == "pending"
        pending = await reloaded.expect("support_pending")
        assert pending["position"] == 1
    finally:
        await reloaded.close()


async def test_a_visitor_who_reloads_mid_conversation_is_told_who_answers(visitor, operator):
    guest, alia = await in_conversation(visitor, operator, name="Алия")
    reloaded = await VisitorSocket.open()
    try:
        registered = await reloaded.register(token=guest.token)
        assert registered["status"] == "operator"
        joined = await reloaded.expect("support_joined")
        assert joined["operator"] == {"name": "Алия"}
        await alia.say(guest.session_id, "Вижу вас")
        answer, _ = await reloaded.until("operator_message")
        assert answer["message"] == "Вижу вас"
    finally:
        await reloaded.close()


async def test_asking_twice_keeps_one_place_in_the_queue(visitor, operator):
    await operator()
    guest = await queued_visitor(visitor)
    await guest.send({"type": "request_support"})
    again, _ = await guest.until("support_pending")
    assert again["position"] == 1
    assert await SupportRequest.objects.acount() == 1
