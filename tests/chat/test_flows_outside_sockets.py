"""The visitor's flows called without a socket do what the socket's frames do.

Each `do_*` is the whole flow (checks, presence, the DB unit, the
announcements); the socket only sends back what it returns. These call them
as a view or a command would, with a real database and Redis.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async

from chat import actions, booking
from chat.ai_reply import AnswerTask, do_route_visitor_message
from chat.models import BookingProposal, ChatMessage, ChatSession, Rating
from tests.factories import make_tour
from tests.support.flows import until_matching

pytestmark = pytest.mark.django_db(transaction=True)

SOCKET_ID = "outside.flows!test"  # a socket name no test client has


async def _registered(token: str | None = None, after: int | None = None) -> actions.Resumed:
    registration = await actions.do_register_visitor(
        token=token, tour_slug=None, user_id=None, client_ip="203.0.113.9"
    )
    return await actions.do_resume_visitor(registration, after=after, socket_id=SOCKET_ID)


async def test_registering_without_a_socket_gives_the_registered_frame_and_the_history(visitor):
    fresh = await _registered()
    assert [f["type"] for f in fresh.frames] == ["registered"]
    assert fresh.frames[0]["messages"] == [] and not fresh.needs_ai

    guest = await visitor()
    await guest.say("Сколько стоит тур?")
    await guest.until("ai_response")
    resumed = await _registered(token=guest.token)

    registered = resumed.frames[0]
    assert registered["session_id"] == guest.session_id
    assert [m["author"] for m in registered["messages"]] == ["visitor", "ai"]
    assert resumed.replayed == {m["id"] for m in registered["messages"]}
    assert not resumed.needs_ai


async def test_a_rating_without_a_socket_is_stored_once_and_answered_with_rated(visitor):
    guest = await visitor()
    await guest.say("Какие туры есть в декабре?")
    await guest.until("ai_response")
    session = await ChatSession.objects.aget(public_id=guest.session_id)

    frame = await actions.do_rate_conversation(session_pk=session.pk, score=5, comment="  Спасибо ")

    assert frame["type"] == "rated" and frame["score"] == 5
    rating = await Rating.objects.aget(session=session)
    assert rating.comment == "Спасибо"


async def test_asking_for_a_person_queues_the_chat_instead_of_the_ai_when_someone_can_take_it(
    visitor, operator
):
    await operator()
    guest = await visitor()
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    text = "Позовите оператора, пожалуйста"
    posted = await actions.do_post_visitor_message(
        session_pk=session.pk,
        session_public_id=guest.session_id,
        client_ip="203.0.113.9",
        client_id=str(uuid.uuid4()),
        text=text,
        tour_slug=None,
    )
    assert posted.wants_person

    ai_answers = await do_route_visitor_message(session_pk=session.pk, posted=posted, text=text)

    assert not ai_answers
    await guest.until("support_pending")
    session = await ChatSession.objects.aget(pk=session.pk)
    assert session.status == ChatSession.Status.PENDING


async def test_asking_for_a_person_with_nobody_online_leaves_the_answer_to_the_ai(visitor):
    guest = await visitor()
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    text = "Позовите оператора"
    posted = await actions.do_post_visitor_message(
        session_pk=session.pk,
        session_public_id=guest.session_id,
        client_ip="203.0.113.9",
        client_id=str(uuid.uuid4()),
        text=text,
        tour_slug=None,
    )

    assert await do_route_visitor_message(session_pk=session.pk, posted=posted, text=text)
    await guest.until("support_unavailable")
    session = await ChatSession.objects.aget(pk=session.pk)
    assert session.status == ChatSession.Status.AI


async def test_the_answer_task_answers_what_waits_and_streams_to_its_sender(visitor):
    guest = await visitor()
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    posted = await actions.do_post_visitor_message(
        session_pk=session.pk,
        session_public_id=guest.session_id,
        client_ip="203.0.113.9",
        client_id=str(uuid.uuid4()),
        text="Сколько стоит тур в Свияжск?",
        tour_slug=None,
        origin=SOCKET_ID,
    )
    sent: list[dict[str, Any]] = []

    async def send(frame: dict[str, Any]) -> None:
        sent.append(frame)

    answers = AnswerTask(session.pk, owner=SOCKET_ID, send=send)
    answers.schedule()
    answers.schedule()  # while one runs: answered by the same or the next round, not twice
    answered = await until_matching(guest, "ai_response", reply_to=posted.message.id)
    while answers.running:  # noqa: ASYNC110 (the task is the consumer's; nothing signals its end)
        await asyncio.sleep(0.05)

    assert sent[0] == {"type": "ai_typing", "typing": True}
    stored = ChatMessage.objects.filter(session=session, author=ChatMessage.Author.AI)
    assert [m.id async for m in stored] == [answered["id"]]


async def test_booking_cards_without_a_socket_are_made_and_found_again(visitor):
    tour = await database_sync_to_async(make_tour)(title="Остров-град Свияжск")
    guest = await visitor()
    session = await ChatSession.objects.aget(public_id=guest.session_id)

    card = await booking.do_request_card(session_pk=session.pk, tour_slug=tour.slug, participants=2)

    assert card["type"] == "booking_proposal"
    assert await BookingProposal.objects.filter(session=session).acount() == 1
    found = await booking.do_open_cards(session_pk=session.pk)
    assert [c["proposal_id"] for c in found["cards"]] == [card["proposal_id"]]
