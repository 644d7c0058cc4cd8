"""From the AI to a person: the handoff intent, and no AI message after support_joined."""

from __future__ import annotations

import asyncio

import pytest

from chat.models import ChatMessage
from tests.fakes.openrouter import FakeOpenRouter
from tests.support.flows import drain

pytestmark = pytest.mark.django_db(transaction=True)

AI_FRAMES = {"ai_typing", "ai_chunk", "ai_response"}


async def test_asking_for_a_person_in_words_queues_the_chat_instead_of_an_ai_answer(
    visitor, operator
):
    alia = await operator()
    guest = await visitor()
    await guest.say("Позовите, пожалуйста, живого оператора")
    await guest.expect("message_ack")
    pending, skipped = await guest.until("support_pending")
    assert pending["position"] == 1
    request, _ = await alia.until("new_support_request")
    assert request["reason"] == "Позовите, пожалуйста, живого оператора"
    assert not [f for f in skipped + await drain(guest) if f["type"] in AI_FRAMES]
    assert not await ChatMessage.objects.filter(author="ai").aexists()


async def test_with_nobody_online_the_ai_still_answers_a_request_for_a_person(visitor):
    guest = await visitor()
    await guest.say("Хочу поговорить с менеджером")
    await guest.expect("message_ack")
    unavailable, _ = await guest.until("support_unavailable")
    assert unavailable["reason"] == "no_operators"
    await guest.until("ai_response")


async def test_an_ai_answer_in_flight_is_cancelled_by_the_takeover(
    visitor, operator, fake_openrouter: FakeOpenRouter
):
    fake_openrouter.first_token_delay = 3.0
    alia = await operator()
    guest = await visitor()
    await guest.say("Расскажите про Болгар")
    await guest.expect("message_ack")
    recorded = (await asyncio.to_thread(fake_openrouter.wait_for_requests, 1))[0]

    await guest.send({"type": "request_support"})
    await guest.until("support_pending")
    await alia.join(guest.session_id)
    await alia.until("support_chat_joined")
    _, before_join = await guest.until("support_joined")

    # The generation was stopped upstream, not merely hidden.
    await asyncio.to_thread(fake_openrouter.wait_until, lambda: recorded.client_closed)
    after_join = await drain(guest, quiet=1.0)
    assert not [f for f in after_join if f["type"] in {"ai_chunk", "ai_response"}]
    assert not [f for f in before_join if f["type"] == "ai_response"]
    assert not await ChatMessage.objects.filter(author="ai").aexists()
