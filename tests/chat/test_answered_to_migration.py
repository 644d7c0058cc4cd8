"""Migration 0006 fills each session's `ai_answered_to` from its stored AI answers,
so the answer statement's guard holds for chats that were already running."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from tests.factories import new_client_id

pytestmark = pytest.mark.django_db

migration = import_module("chat.migrations.0006_session_ai_answered_to")


def _session() -> ChatSession:
    return ChatSession.objects.create(
        token_hash=new_client_id(), token_expires_at=timezone.now() + timedelta(days=1)
    )


def _say(session: ChatSession, author: str, reply_to: ChatMessage | None = None) -> ChatMessage:
    return ChatMessage.objects.create(session=session, author=author, text="…", reply_to=reply_to)


def test_the_newest_question_an_ai_answer_replied_to_is_filled_in():
    answered = _session()
    first = _say(answered, ChatMessage.Author.VISITOR)
    _say(answered, ChatMessage.Author.AI, reply_to=first)
    second = _say(answered, ChatMessage.Author.VISITOR)
    _say(answered, ChatMessage.Author.AI, reply_to=second)
    _say(answered, ChatMessage.Author.VISITOR)  # not answered yet
    # An operator's reply is not the AI's.
    with_operator = _session()
    question = _say(with_operator, ChatMessage.Author.VISITOR)
    _say(with_operator, ChatMessage.Author.OPERATOR, reply_to=question)
    silent = _session()
    ChatSession.objects.update(ai_answered_to=None)

    migration.answered_to_from_messages(apps, None)

    by_pk = dict(ChatSession.objects.values_list("pk", "ai_answered_to"))
    assert by_pk == {answered.pk: second.pk, with_operator.pk: None, silent.pk: None}
