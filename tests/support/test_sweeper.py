"""The sweep: abandoned requests, and chats of operators who are gone, back in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.models import ChatSession
from support import actions
from support.models import SupportRequest
from tests.factories import VisitorSocket
from tests.support.flows import in_conversation, queued_visitor, until_matching

pytestmark = pytest.mark.django_db(transaction=True)


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


async def test_a_request_whose_visitor_left_is_abandoned(visitor, operator, settings):
    alia = await operator()
    guest = await queued_visitor(visitor)
    await guest.close()
    result = await actions.sweep(later(settings.SUPPORT_VISITOR_GONE_SECONDS + 1))
    assert result.abandoned == [guest.session_id]
    request = await SupportRequest.objects.aget()
    assert (request.status, request.closed_by) == ("abandoned", "system")
    assert (await ChatSession.objects.aget()).status == "ai"
    taken, _ = await alia.until("support_request_taken")
    assert taken["operator"] is None and taken["reason"] == "abandoned"


async def test_a_visitor_who_left_only_briefly_keeps_their_place(visitor, operator, settings):
    await operator()
    guest = await queued_visitor(visitor)
    await guest.close()
    result = await actions.sweep(later(settings.SUPPORT_VISITOR_GONE_SECONDS - 5))
    assert result.abandoned == []
    back = await VisitorSocket.open()
    try:
        await back.register(token=guest.token)
        result = await actions.sweep(later(settings.SUPPORT_VISITOR_GONE_SECONDS + 1))
        assert result.abandoned == []
    finally:
        await back.close()
    assert (await SupportRequest.objects.aget()).status == "waiting"


async def test_nobody_waits_forever(visitor, operator, settings):
    await operator()
    guest = await queued_visitor(visitor)
    result = await actions.sweep(later(settings.SUPPORT_MAX_WAIT_SECONDS + 1))
    assert result.abandoned == [guest.session_id]
    told, _ = await guest.until("support_unavailable")
    assert told["reason"] == "timeout"


async def test_chats_of_an_operator_gone_past_the_grace_period_go_back_first_in_line(
    visitor, operator, settings
):
    alia = await operator(name="Алия")
    bulat = await operator(name="Булат")
    await bulat.send({"type": "set_status", "status": "away"})
    await bulat.until("operator_status")
    earlier = await queued_visitor(visitor)  # waiting longer than the chat Алия takes
    guest = await queued_visitor(visitor)
    await alia.join(guest.session_id)
    await alia.until("support_chat_joined")
    await guest.until("support_joined")
    await alia.close()

    not_yet = await actions.sweep(later(settings.SUPPORT_OPERATOR_GRACE_SECONDS - 5))
    assert not_yet.requeued == []

    result = await actions.sweep(later(settings.SUPPORT_OPERATOR_GRACE_SECONDS + 1))
    assert result.requeued == [guest.session_id]
    told, _ = await guest.until("support_pending")
    assert told["position"] == 1 and told["requeued"] is True
    # Told again whenever their position or estimate changed; in the end: second.
    await until_matching(earlier, "support_pending", position=2)
    announced, _ = await bulat.until(
        "new_support_request", session_id=guest.session_id, requeued=True
    )
    assert announced["position"] == 1

    request = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert (request.status, request.operator_id, request.requeue_count) == ("waiting", None, 1)
    assert (await ChatSession.objects.aget(public_id=guest.session_id)).status == "pending"


async def test_a_visitor_left_unanswered_goes_back_to_the_queue(visitor, operator, settings):
    guest, alia = await in_conversation(visitor, operator)
    await alia.say(guest.session_id, "Сейчас посмотрю")
    await alia.until("message_ack")
    await guest.say("Жду ответа")
    await guest.until("message_ack")
    result = await actions.sweep(later(settings.SUPPORT_UNANSWERED_SECONDS + 1))
    assert result.requeued == [guest.session_id]
    closed, _ = await alia.until("chat_closed")
    assert closed == {
        "type": "chat_closed",
        "session_id": guest.session_id,
        "by": "system",
        "reason": "requeued",
    }
    await alia.say(guest.session_id, "Поздно")
    refused, _ = await alia.until("error")
    assert refused["code"] == "forbidden"


async def test_an_answered_visitor_stays_with_their_operator(visitor, operator, settings):
    guest, alia = await in_conversation(visitor, operator)
    await guest.say("Вопрос")
    await alia.until("visitor_message")
    await alia.say(guest.session_id, "Ответ")
    await alia.until("message_ack")
    result = await actions.sweep(later(settings.SUPPORT_UNANSWERED_SECONDS + 1))
    assert result.requeued == []
    assert (await SupportRequest.objects.aget()).status == "assigned"


def test_the_sweeper_command_sweeps_once(settings):
    from chat import actions as chat_actions

    session = chat_actions.register_visitor(
        token=None, tour_slug=None, user_id=None, client_ip=None
    ).session
    actions.request_support(session_pk=session.pk, reason="")
    SupportRequest.objects.update(
        requested_at=timezone.now() - timedelta(seconds=settings.SUPPORT_MAX_WAIT_SECONDS + 1)
    )
    call_command("support_sweeper", "--once")
    assert SupportRequest.objects.get().status == "abandoned"


async def test_operator_heartbeats_sweep_when_no_sweeper_runs(visitor, operator, settings):
    alia = await operator()
    guest = await queued_visitor(visitor)
    await SupportRequest.objects.aupdate(
        requested_at=timezone.now() - timedelta(seconds=settings.SUPPORT_MAX_WAIT_SECONDS + 1)
    )
    await alia.send({"type": "heartbeat"})
    told, _ = await guest.until("support_unavailable")
    assert told["reason"] == "timeout"
    assert (await SupportRequest.objects.aget()).status == "abandoned"


async def _last_heartbeat_of_the_visitors_process(session_id: str, seconds_ago: float) -> None:
    import time

    from support import presence
    from tatartours.redis import get_redis

    session = await ChatSession.objects.aget(public_id=session_id)
    redis = get_redis()
    (socket_id,) = await redis.smembers(presence.visitor_sockets_key(session.pk))
    process = presence.process_of(socket_id.decode() if isinstance(socket_id, bytes) else socket_id)
    await redis.zadd(presence.PROCESSES_KEY, {process: time.time() - seconds_ago})


async def test_a_visitor_whose_server_process_died_with_the_socket_open_is_abandoned(
    visitor, operator, settings
):
    await operator()
    guest = await queued_visitor(visitor)
    # The socket is still open as far as Redis knows; its process went silent.
    await _last_heartbeat_of_the_visitors_process(
        guest.session_id, settings.SUPPORT_VISITOR_GONE_SECONDS + 1
    )
    result = await actions.sweep()
    assert result.abandoned == [guest.session_id]


async def test_a_visitor_on_a_process_silent_for_less_than_the_grace_keeps_their_place(
    visitor, operator, settings
):
    await operator()
    guest = await queued_visitor(visitor)
    await _last_heartbeat_of_the_visitors_process(
        guest.session_id, settings.SUPPORT_VISITOR_GONE_SECONDS - 5
    )
    result = await actions.sweep()
    assert result.abandoned == []
    assert (await SupportRequest.objects.aget()).status == "waiting"


async def test_a_visitor_on_a_process_never_heard_of_keeps_their_place(visitor, operator):
    from support import presence
    from tatartours.redis import get_redis

    await operator()
    await queued_visitor(visitor)
    await get_redis().delete(presence.PROCESSES_KEY)  # e.g. a process from before heartbeats
    result = await actions.sweep()
    assert result.abandoned == []
