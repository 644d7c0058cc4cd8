"""A message moves its session's last_activity_at when the stamp is older than
ACTIVITY_STAMP_GRANULARITY, and leaves the row alone otherwise (chat/message_rows.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.actions import post_visitor_message
from chat.message_rows import ACTIVITY_STAMP_GRANULARITY
from chat.models import ChatMessage, ChatSession
from support.actions import post_operator_message
from support.models import SupportRequest
from tests.factories import make_operator, make_tour, new_client_id

pytestmark = pytest.mark.django_db


def _session(status: str = ChatSession.Status.OPERATOR, **fields) -> ChatSession:
    return ChatSession.objects.create(
        token_hash=new_client_id(),
        token_expires_at=timezone.now() + timedelta(days=1),
        status=status,
        **fields,
    )


def _stamp_back(session: ChatSession, by: timedelta) -> None:
    at = timezone.now() - by
    ChatSession.objects.filter(pk=session.pk).update(last_activity_at=at)


def _stamp(session: ChatSession):
    return ChatSession.objects.values_list("last_activity_at", flat=True).get(pk=session.pk)


def _visitor_says(session: ChatSession, **kwargs) -> ChatMessage:
    posted = post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="Есть места?", **kwargs
    )
    return posted.message


def test_a_visitor_message_after_a_quiet_spell_moves_the_stamp_to_the_message():
    session = _session()
    _stamp_back(session, ACTIVITY_STAMP_GRANULARITY + timedelta(seconds=5))
    message = _visitor_says(session)
    assert _stamp(session) == message.created_at


def test_a_visitor_message_soon_after_the_last_leaves_the_stamp_within_the_granularity():
    session = _session()
    _stamp_back(session, timedelta(seconds=10))
    before = _stamp(session)
    message = _visitor_says(session)
    assert _stamp(session) == before
    assert message.created_at - _stamp(session) <= ACTIVITY_STAMP_GRANULARITY


def test_a_closed_chat_returns_to_the_ai_on_a_fresh_stamp_and_follows_the_tour_page():
    tour = make_tour()
    session = _session(status=ChatSession.Status.CLOSED)
    _stamp_back(session, timedelta(seconds=1))
    message = _visitor_says(session, tour_slug=tour.slug)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.AI
    assert session.tour_id == tour.pk
    assert session.last_activity_at == message.created_at


def test_a_new_tour_page_is_followed_on_a_fresh_stamp():
    tour = make_tour()
    session = _session(status=ChatSession.Status.AI)
    _stamp_back(session, timedelta(seconds=1))
    _visitor_says(session, tour_slug=tour.slug)
    session.refresh_from_db()
    assert session.tour_id == tour.pk


def _held_by(operator) -> ChatSession:
    session = _session()
    SupportRequest.objects.create(
        session=session,
        status=SupportRequest.Status.ASSIGNED,
        operator=operator,
        queued_at=timezone.now(),
    )
    return session


def test_an_operator_message_moves_an_old_stamp_and_leaves_a_fresh_one():
    operator = make_operator()
    session = _held_by(operator)
    _stamp_back(session, ACTIVITY_STAMP_GRANULARITY + timedelta(seconds=5))
    first = post_operator_message(
        operator_id=operator.pk,
        session_id=session.public_id,
        client_id=new_client_id(),
        text="Добрый день",
    )
    assert first.created and _stamp(session) == first.message.created_at
    second = post_operator_message(
        operator_id=operator.pk,
        session_id=session.public_id,
        client_id=new_client_id(),
        text="Чем помочь?",
    )
    assert second.created and _stamp(session) == first.message.created_at
    # The request's first reply is still the first message's.
    request = SupportRequest.objects.get(session=session)
    assert request.first_reply_at == first.message.created_at
