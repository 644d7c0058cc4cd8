"""`register`: new sessions, resuming by token, resync with `after`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.events import session_group, visitor_message_frame
from chat.models import ChatMessage, ChatSession
from chat.publish import send_events
from chat.tokens import hash_token
from tests.factories import make_tour

pytestmark = pytest.mark.django_db(transaction=True)


async def _answered(socket, text: str) -> tuple[dict, dict]:
    await socket.say(text)
    ack = await socket.expect("message_ack")
    response, _ = await socket.until("ai_response")
    await socket.until("ai_typing")  # typing: false closes every answer
    return ack, response


async def test_token_is_stored_only_as_its_hash(visitor):
    socket = await visitor()
    session = await ChatSession.objects.aget(public_id=socket.session_id)
    assert session.token_hash == hash_token(socket.token)
    assert socket.token not in session.token_hash


async def test_resuming_with_the_token_returns_the_same_session_and_history(visitor):
    first = await visitor()
    ack, response = await _answered(first, "Здравствуйте!")
    await first.close()

    again = await visitor(token=first.token)
    assert again.session_id == first.session_id
    assert again.token == first.token
    assert [m["id"] for m in again.registered["messages"]] == [ack["id"], response["id"]]
    assert again.registered["messages"][0]["author"] == "visitor"
    assert again.registered["messages"][0]["client_id"]
    assert again.registered["messages"][1]["author"] == "ai"


async def test_forged_token_gets_a_new_session(visitor):
    first = await visitor()
    forged = await visitor(token=first.token[:-4] + "AAAA")
    assert forged.session_id != first.session_id
    assert forged.token != first.token
    assert forged.registered["messages"] == []


async def test_expired_token_gets_a_new_session(visitor):
    first = await visitor()
    await ChatSession.objects.filter(public_id=first.session_id).aupdate(
        token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    again = await visitor(token=first.token)
    assert again.session_id != first.session_id


async def test_after_returns_only_the_messages_the_client_lacks(visitor):
    first = await visitor()
    _, response1 = await _answered(first, "Первый вопрос")
    ack2, response2 = await _answered(first, "Второй вопрос")
    await first.close()

    again = await visitor(token=first.token, after=response1["id"])
    assert [m["id"] for m in again.registered["messages"]] == [ack2["id"], response2["id"]]


async def test_a_late_live_copy_of_a_message_the_client_had_is_not_sent_again(visitor):
    """A publish retried after a Redis outage can reach a tab that registered
    since with `after` past it: the tab said it has that message."""
    first = await visitor()
    ack, response = await _answered(first, "Первый вопрос")
    second = await visitor(token=first.token, after=response["id"])
    assert second.registered["messages"] == []

    stored = await ChatMessage.objects.select_related("session").aget(pk=ack["id"])
    await send_events([(session_group(first.session_id), visitor_message_frame(stored))])
    later = await first.say("Второй вопрос")
    # The first live frame the second tab gets is the new message, not the old copy.
    live = await second.expect("visitor_message")
    assert live["client_id"] == later


async def test_a_new_session_ignores_the_after_of_a_forged_token(visitor):
    """`after` counts only for the session it came with: a forged token gets
    a new session whose messages all arrive live, whatever `after` said."""
    first = await visitor()
    ack, _ = await _answered(first, "Первый вопрос")
    forged = await visitor(token=first.token[:-4] + "AAAA", after=ack["id"] + 10**6)
    other_tab = await visitor(token=forged.token)
    sent = await forged.say("Есть туры в Свияжск?")
    live = await other_tab.expect("visitor_message")
    assert live["client_id"] == sent


async def test_register_remembers_the_tour_page_from_the_database(visitor):
    tour = await sync_to_async(make_tour)()
    socket = await visitor(tour=tour.slug)
    session = await ChatSession.objects.select_related("tour").aget(public_id=socket.session_id)
    assert session.tour == tour


async def test_unknown_tour_slug_is_ignored_not_trusted(visitor):
    socket = await visitor(tour="no-such-tour")
    session = await ChatSession.objects.aget(public_id=socket.session_id)
    assert session.tour_id is None


async def test_an_unanswered_message_is_answered_after_reconnect(visitor, fake_openrouter):
    """A message acked while its answer was cut off (socket closed) still gets its answer."""
    fake_openrouter.first_token_delay = 30  # the answer cannot finish before we leave
    first = await visitor()
    await first.say("Есть ли скидки для студентов?")
    ack = await first.expect("message_ack")
    await asyncio.to_thread(fake_openrouter.wait_for_requests, 1)  # the model was asked
    await first.close()  # cancels the answer task and the upstream request

    session = await ChatSession.objects.aget(public_id=first.session_id)
    assert not await session.messages.filter(author="ai").aexists()
    fake_openrouter.first_token_delay = 0
    again = await visitor(token=first.token)
    response, _ = await again.until("ai_response")
    assert response["reply_to"] == ack["id"]
    assert await session.messages.filter(author="ai").acount() == 1
