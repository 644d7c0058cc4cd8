"""Asking for an operator: the queue, positions, estimates, new_support_request."""

from __future__ import annotations

import pytest

from chat.models import ChatSession
from support.models import SupportRequest
from tests.support.flows import queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def test_request_support_queues_the_chat_and_tells_operators(visitor, operator):
    alia = await operator(name="Алия")
    guest = await visitor()
    await guest.send({"type": "request_support", "reason": "Вопрос по оплате"})

    pending, _ = await guest.until("support_pending")
    assert pending["position"] == 1
    assert pending["estimated_wait_seconds"] > 0
    assert "1" in pending["message"]

    request, _ = await alia.until("new_support_request")
    assert request["session_id"] == guest.session_id
    assert request["reason"] == "Вопрос по оплате"
    assert request["position"] == 1

    stored = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert stored.status == SupportRequest.Status.WAITING
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    assert session.status == ChatSession.Status.PENDING


async def test_positions_are_resent_when_someone_ahead_is_taken(visitor, operator):
    alia = await operator()
    guests = [await queued_visitor(visitor) for _ in range(3)]
    # Each was told their own place when they joined.
    await alia.join(guests[0].session_id)
    await alia.until("support_chat_joined")

    second, _ = await guests[1].until("support_pending")
    third, _ = await guests[2].until("support_pending")
    assert (second["position"], third["position"]) == (1, 2)


async def test_operators_get_the_queue_on_connect_and_when_they_ask(visitor, operator):
    first_operator = await operator(name="Алия")
    first = await queued_visitor(visitor)
    second = await queued_visitor(visitor)
    await first_operator.join(first.session_id)
    await first_operator.until("support_chat_joined")

    bulat = await operator(name="Булат")
    snapshot = bulat.queue
    assert [r["session_id"] for r in snapshot["requests"]] == [second.session_id]
    assert snapshot["requests"][0]["preview"] == "Сколько стоит тур?"
    assert snapshot["requests"][0]["position"] == 1
    [held] = snapshot["assigned"]
    assert held["session_id"] == first.session_id
    assert held["operator"]["name"] == "Алия"
    assert snapshot["operators_available"] == 2

    await bulat.send({"type": "get_queue"})
    fresh, _ = await bulat.until("queue")
    assert [r["session_id"] for r in fresh["requests"]] == [second.session_id]


async def test_new_requests_reach_every_online_operator(visitor, operator):
    alia, bulat = await operator(), await operator()
    guest = await queued_visitor(visitor)
    for socket in (alia, bulat):
        request, _ = await socket.until("new_support_request")
        assert request["session_id"] == guest.session_id
        assert request["preview"] == "Сколько стоит тур?"
