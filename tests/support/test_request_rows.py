"""Who holds a chat, read for every operator message in one statement (support/request_rows)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chat.models import ChatSession
from support.models import OperatorProfile, SupportRequest
from support.request_rows import held_chat
from tests.factories import make_operator, new_client_id

pytestmark = pytest.mark.django_db


def _chat_held_by(operator) -> ChatSession:
    session = ChatSession.objects.create(
        token_hash=new_client_id(),
        token_expires_at=timezone.now(),
        status=ChatSession.Status.OPERATOR,
    )
    SupportRequest.objects.create(
        session=session,
        status=SupportRequest.Status.ASSIGNED,
        operator=operator,
        queued_at=timezone.now(),
    )
    return session


@pytest.mark.parametrize(
    ("profile_name", "first_name", "seen_as"),
    [("Алия", "Алия Р.", "Алия"), ("", "Тимур", "Тимур"), ("", "", "{username}")],
    ids=["profile-name-first", "then-first-name", "then-username"],
)
def test_the_visitor_sees_the_operator_by_the_same_name_as_everywhere(
    profile_name, first_name, seen_as
):
    operator = make_operator()
    OperatorProfile.objects.filter(user=operator).update(display_name=profile_name)
    operator.first_name = first_name
    operator.save(update_fields=["first_name"])
    held = held_chat(_chat_held_by(operator).pk)
    assert held is not None
    assert held.operator_name == seen_as.format(username=operator.username)
    assert held.request.operator_id == operator.pk and held.operator_active


def test_a_deactivated_operator_is_reported_so_and_an_unheld_chat_has_nobody():
    operator = make_operator()
    session = _chat_held_by(operator)
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    held = held_chat(session.pk)
    assert held is not None and not held.operator_active
    SupportRequest.objects.filter(session=session).update(status=SupportRequest.Status.CLOSED)
    assert held_chat(session.pk) is None
