"""The chat's action layer: what each action writes and what it announces on commit."""

from __future__ import annotations

import pytest
from django.db import transaction

from ai.types import AIAnswer
from chat import actions
from chat.errors import ClientError
from chat.events import session_group
from chat.models import ChatMessage, ChatSession
from chat.publish import collecting
from tests.factories import new_client_id

pytestmark = pytest.mark.django_db


def _new_session() -> ChatSession:
    return actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip="127.0.0.1"
    ).session


def test_posting_announces_the_message_only_after_commit(django_capture_on_commit_callbacks):
    session = _new_session()
    with collecting() as events:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            posted = actions.post_visitor_message(
                session_pk=session.pk, client_id=new_client_id(), text="Привет"
            )
            assert events == []  # nothing announced while it could still roll back
    assert posted.created and posted.needs_ai
    assert events == [
        (
            session_group(session.public_id),
            {
                "type": "visitor_message",
                "session_id": str(session.public_id),
                "id": posted.message.id,
                "message": "Привет",
                "timestamp": posted.message.created_at.isoformat(),
                "client_id": posted.message.client_id,
            },
        )
    ]


def test_rolled_back_message_is_never_announced(django_capture_on_commit_callbacks):
    session = _new_session()
    with collecting() as events:
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            actions.post_visitor_message(
                session_pk=session.pk, client_id=new_client_id(), text="Откат"
            )
            raise RuntimeError("rollback")
    assert events == []
    assert not ChatMessage.objects.exists()


def test_a_retry_announces_nothing_and_returns_the_stored_message(
    django_capture_on_commit_callbacks,
):
    session = _new_session()
    client_id = new_client_id()
    first = actions.post_visitor_message(session_pk=session.pk, client_id=client_id, text="Раз")
    with collecting() as events, django_capture_on_commit_callbacks(execute=True):
        retry = actions.post_visitor_message(session_pk=session.pk, client_id=client_id, text="Раз")
    assert events == []
    assert not retry.created
    assert retry.message.id == first.message.id


def test_client_ids_are_scoped_to_their_session():
    client_id = new_client_id()
    one, two = _new_session(), _new_session()
    actions.post_visitor_message(session_pk=one.pk, client_id=client_id, text="Первый")
    other = actions.post_visitor_message(session_pk=two.pk, client_id=client_id, text="Второй")
    assert other.created


def test_prepare_ai_reply_takes_the_last_ten_messages_and_the_newest_question():
    session = _new_session()
    for n in range(12):
        actions.post_visitor_message(session_pk=session.pk, client_id=new_client_id(), text=f"q{n}")
    request = actions.prepare_ai_reply(session.pk)
    assert request is not None
    assert [item.text for item in request.history] == [f"q{n}" for n in range(2, 12)]
    assert request.reply_to == ChatMessage.objects.latest("id").id


def test_nothing_to_answer_when_the_last_message_is_already_answered():
    session = _new_session()
    posted = actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="?"
    )
    actions.store_ai_answer(
        session_pk=session.pk, reply_to=posted.message.id, answer=AIAnswer("Ответ", "model")
    )
    assert actions.prepare_ai_reply(session.pk) is None


def test_ai_answer_is_dropped_once_an_operator_holds_the_chat(django_capture_on_commit_callbacks):
    session = _new_session()
    posted = actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="?"
    )
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.OPERATOR)
    with collecting() as events, django_capture_on_commit_callbacks(execute=True):
        stored = actions.store_ai_answer(
            session_pk=session.pk, reply_to=posted.message.id, answer=AIAnswer("Поздно", "model")
        )
    assert stored is None
    assert events == []
    assert not ChatMessage.objects.filter(author="ai").exists()


def test_ai_answer_is_stored_once_per_question_with_its_metrics():
    session = _new_session()
    posted = actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="?"
    )
    answer = AIAnswer(
        "Ответ",
        "model",
        model="openai/gpt-4",
        latency_ms=900,
        first_token_ms=200,
        prompt_tokens=100,
        completion_tokens=20,
        fallback_used=True,
    )
    stored = actions.store_ai_answer(
        session_pk=session.pk, reply_to=posted.message.id, answer=answer
    )
    again = actions.store_ai_answer(
        session_pk=session.pk, reply_to=posted.message.id, answer=answer
    )
    assert stored is not None and again is None
    assert (stored.ai_model, stored.ai_first_token_ms, stored.ai_fallback_used) == (
        "openai/gpt-4",
        200,
        True,
    )
    session.refresh_from_db()
    assert session.ai_tokens_used == 120


def test_a_closed_chat_returns_to_the_ai_on_the_next_message():
    session = _new_session()
    ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.CLOSED)
    posted = actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="?"
    )
    assert posted.status == ChatSession.Status.AI and posted.needs_ai


def test_rating_an_ai_conversation_is_allowed_once():
    session = _new_session()
    posted = actions.post_visitor_message(
        session_pk=session.pk, client_id=new_client_id(), text="?"
    )
    actions.store_ai_answer(
        session_pk=session.pk, reply_to=posted.message.id, answer=AIAnswer("Ответ", "model")
    )
    rating = actions.rate_conversation(session_pk=session.pk, score=5, comment="Спасибо")
    assert rating.support_request is None
    with pytest.raises(ClientError) as refused:
        actions.rate_conversation(session_pk=session.pk, score=4)
    assert refused.value.code == "invalid"


def test_logged_in_visitor_cannot_resume_another_users_session(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    registration = actions.register_visitor(
        token=None, tour_slug=None, user_id=alice.pk, client_ip=None
    )
    stolen = actions.register_visitor(
        token=registration.token, tour_slug=None, user_id=bob.pk, client_ip=None
    )
    assert stolen.session.pk != registration.session.pk
    assert not stolen.resumed


def test_an_anonymous_session_is_linked_when_the_visitor_logs_in(django_user_model):
    user = django_user_model.objects.create_user("guest")
    registration = actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip=None
    )
    resumed = actions.register_visitor(
        token=registration.token, tour_slug=None, user_id=user.pk, client_ip=None
    )
    assert resumed.session.pk == registration.session.pk
    assert resumed.session.user_id == user.pk
