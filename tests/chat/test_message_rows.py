"""The message path's prebuilt SQL (chat/message_rows.py, tatartours/lean_rows.py)
reads and writes exactly what the ORM would."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from chat import message_rows
from chat.models import ChatMessage, ChatSession
from tatartours.lean_rows import insert, update_fields
from tests.factories import make_tour, new_client_id

pytestmark = pytest.mark.django_db


def _session(**fields) -> ChatSession:
    return ChatSession.objects.create(
        token_hash=new_client_id(), token_expires_at="2030-01-01T00:00:00Z", **fields
    )


def test_an_inserted_message_reads_back_through_the_orm_field_for_field():
    session = _session()
    message = ChatMessage(
        session=session,
        author=ChatMessage.Author.AI,
        text="Ответ «с кавычками» и\nпереводом строки",
        ai_source=ChatMessage.AISource.MODEL,
        ai_cost=Decimal("0.00012345"),
        ai_latency_ms=812,
        meta={"faq": [3, 4], "tools": ["search_tours"], "handoff": False},
    )
    row = insert(message)
    assert row.pk is not None and row.created_at is not None
    stored = ChatMessage.objects.get(pk=row.pk)
    for field in ChatMessage._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(row, field.attname), field.name
    # The returned row is a stored instance to the ORM, as if it had been queried.
    row.text = "Исправлено"
    row.save(update_fields=["text"])
    assert ChatMessage.objects.get(pk=row.pk).text == "Исправлено"
    assert ChatMessage.objects.count() == 1


def test_the_locked_session_is_the_orm_row_with_its_tour_slug():
    tour = make_tour()
    session = _session(tour=tour, ai_tokens_used=42)
    with transaction.atomic():
        locked, slug = message_rows.lock_session(session.pk)
    expected = ChatSession.objects.get(pk=session.pk)
    assert slug == tour.slug
    for field in ChatSession._meta.concrete_fields:
        assert getattr(locked, field.attname) == getattr(expected, field.attname), field.name


def test_a_session_without_a_tour_has_no_slug_and_a_missing_one_raises():
    session = _session()
    with transaction.atomic():
        assert message_rows.lock_session(session.pk)[1] is None
        with pytest.raises(ChatSession.DoesNotExist):
            message_rows.lock_session(session.pk + 10_000)


@pytest.mark.parametrize("public_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_or_malformed_public_id_finds_no_session(public_id):
    _session()
    with transaction.atomic():
        assert message_rows.lock_session_by_public_id(public_id) is None


def test_updated_fields_are_written_and_the_others_left_alone():
    session = _session(user_agent="до")
    session.status = ChatSession.Status.OPERATOR
    session.user_agent = "не должно записаться"
    update_fields(session, ["status"])
    stored = ChatSession.objects.get(pk=session.pk)
    assert (stored.status, stored.user_agent) == (ChatSession.Status.OPERATOR, "до")


def test_a_message_is_found_by_its_client_id_only_in_its_own_session():
    session, other = _session(), _session()
    client_id = new_client_id()
    ChatMessage.objects.create(session=session, author="visitor", text="а", client_id=client_id)
    found = message_rows.message_by_client_id(session.pk, client_id)
    assert found is not None and found.text == "а"
    assert message_rows.message_by_client_id(other.pk, client_id) is None


def test_the_ai_context_is_the_newest_messages_without_system_ones():
    session = _session()
    authors = ["visitor", "ai", "system", "visitor", "operator", "visitor"]
    ids = [
        ChatMessage.objects.create(session=session, author=a, text=f"{i}").id
        for i, a in enumerate(authors)
    ]
    recent = message_rows.recent_conversation(session.pk, limit=4)
    assert [m.id for m in recent] == [ids[5], ids[4], ids[3], ids[1]]
    assert [m.author for m in recent] == ["visitor", "operator", "visitor", "ai"]


def test_an_ai_answer_counts_for_its_question_and_the_ones_before():
    session = _session()
    first = ChatMessage.objects.create(session=session, author="visitor", text="1")
    second = ChatMessage.objects.create(session=session, author="visitor", text="2")
    assert not message_rows.is_answered_by_ai(session.pk, first.id)
    ChatMessage.objects.create(session=session, author="ai", text="ответ", reply_to=second)
    assert message_rows.is_answered_by_ai(session.pk, first.id)
    assert message_rows.is_answered_by_ai(session.pk, second.id)
    third = ChatMessage.objects.create(session=session, author="visitor", text="3")
    assert not message_rows.is_answered_by_ai(session.pk, third.id)
