"""Many operators click "Take" at once: exactly one wins, in the real database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from chat import actions as chat_actions
from chat.errors import ClientError
from chat.models import ChatSession
from chat.publish import collecting
from support import actions
from support.events import OPERATORS_GROUP
from support.models import SupportRequest
from tests.factories import make_operator

pytestmark = pytest.mark.django_db(transaction=True)

OPERATORS = 8


def waiting_chat() -> str:
    session = chat_actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip=None
    ).session
    actions.request_support(session_pk=session.pk, reason="")
    return str(session.public_id)


def test_of_many_simultaneous_claims_exactly_one_wins():
    session_id = waiting_chat()
    operators = [make_operator(name=f"Оператор {n}") for n in range(OPERATORS)]
    start = threading.Barrier(OPERATORS)

    def claim(operator_id: int) -> tuple[str, list]:
        try:
            start.wait(timeout=10)
            with collecting() as events:
                try:
                    actions.join_support_chat(operator_id=operator_id, session_id=session_id)
                    return "won", events
                except ClientError as error:
                    return error.code, events
        finally:
            connection.close()  # each thread's own connection

    with ThreadPoolExecutor(OPERATORS) as pool:
        results = list(pool.map(claim, [op.pk for op in operators]))

    outcomes = sorted(code for code, _ in results)
    assert outcomes == ["already_taken"] * (OPERATORS - 1) + ["won"]
    [winner_events] = [events for code, events in results if code == "won"]
    assert [
        group for group, frame in winner_events if frame["type"] == "support_request_taken"
    ] == [OPERATORS_GROUP]
    assert all(events == [] for code, events in results if code != "won")

    request = SupportRequest.objects.get()
    winner = operators[[code for code, _ in results].index("won")]
    assert (request.status, request.operator_id) == ("assigned", winner.pk)
    assert ChatSession.objects.get().status == "operator"


def test_one_operator_clicking_many_chats_at_once_stays_within_capacity():
    operator = make_operator(max_chats=2)
    chats = [waiting_chat() for _ in range(6)]
    start = threading.Barrier(len(chats))

    def claim(session_id: str) -> str:
        try:
            start.wait(timeout=10)
            try:
                actions.join_support_chat(operator_id=operator.pk, session_id=session_id)
                return "won"
            except ClientError as error:
                return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(chats)) as pool:
        outcomes = list(pool.map(claim, chats))
    assert outcomes.count("won") == 2
    assert SupportRequest.objects.filter(operator=operator, status="assigned").count() == 2
