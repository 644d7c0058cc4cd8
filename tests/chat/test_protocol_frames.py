"""Every frame builder makes a frame its typed definition allows (chat/frames_out.py,
support/frames_out.py), with each optional field both ways.

The flows of the suite check the frames they receive (tests/wsclient.py); this
module reaches every builder directly, so no frame type goes unchecked even where
a flow that sends it is rare (a transfer, a ticket update, a timeout).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from chat import events
from chat.errors import ClientError
from chat.frames_out import VISITOR_OUT
from chat.guards import Throttled
from chat.models import ChatMessage, ChatSession
from chat.ratelimit import Verdict, Window
from support import events as support_events
from support.frames_out import OPERATOR_OUT

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
SESSION_ID = str(uuid.uuid4())


def _message(author: str = "visitor", **fields: Any) -> ChatMessage:
    session = ChatSession(public_id=uuid.UUID(SESSION_ID))
    message = ChatMessage(
        id=fields.pop("id", 7),
        session=session,
        author=author,
        text="Сколько стоит экскурсия?",
        created_at=NOW,
        client_id=str(uuid.uuid4()),
        **fields,
    )
    return message


def visitor(frame: dict[str, Any]) -> None:
    VISITOR_OUT.check(frame)


def operator(frame: dict[str, Any]) -> None:
    OPERATOR_OUT.check(frame)


def test_the_visitors_conversation_frames():
    question = _message()
    answer = _message("ai", id=8, reply_to_id=7, ai_source="model")
    history = [events.message_data(question), events.message_data(answer)]
    registered = events.registered_frame(question.session, "token", "ai", history)
    visitor(registered)
    visitor({**registered, "has_more": True})
    visitor(events.message_ack_frame(question))
    visitor(events.visitor_message_frame(question))
    visitor(events.ai_typing_frame(True))
    visitor(events.ai_chunk_frame(7, "Экскурсия"))
    visitor(events.ai_response_frame(answer))
    visitor(events.rated_frame(5))


def test_the_operator_frames_of_a_chat():
    question = _message()
    operator(events.visitor_message_frame(question))
    operator(events.visitor_typing_frame(SESSION_ID, True))
    reply = _message("operator", id=9)
    operator(events.message_ack_frame(reply, session_id=SESSION_ID))
    both = support_events.operator_message_frame(reply, SESSION_ID, "Алия")
    operator(both)
    visitor(both)
    visitor(support_events.operator_typing_frame(SESSION_ID, False))
    operator(support_events.operator_chat_closed_frame(SESSION_ID, "visitor", "closed"))
    operator(support_events.operator_chat_closed_frame(SESSION_ID, "system", "requeued"))
    operator(support_events.chat_transferred_frame(SESSION_ID, {"id": 2, "name": "Марат"}))


@pytest.mark.django_db
def test_the_support_line_frames_a_visitor_reads():
    for wait in (None, 240):
        for requeued in (False, True):
            visitor(
                support_events.support_pending_frame(
                    position=2, estimated_wait_seconds=wait, requeued=requeued
                )
            )
    for reason in ("no_operators", "outside_hours", "timeout"):
        visitor(support_events.support_unavailable_frame(reason, "09:00–21:00"))
    notice = events.message_data(_message("system", id=10))
    visitor(support_events.support_joined_frame("Алия"))
    visitor(support_events.support_joined_frame("Алия", transferred=True, notice=notice))
    visitor(support_events.visitor_chat_closed_frame("operator", ask_rating=True))
    visitor(support_events.visitor_chat_closed_frame("visitor", ask_rating=False, notice=notice))


def test_the_queue_frames():
    request: support_events.RequestData = {
        "session_id": SESSION_ID,
        "waiting_since": NOW.isoformat(),
        "preview": "Позовите оператора",
        "position": 1,
        "requested_at": NOW.isoformat(),
        "reason": "",
        "requeued": False,
    }
    with_tour: support_events.RequestData = {
        **request,
        "tour": {"slug": "kazan", "title": "Казань"},
        "user": {"name": "Иван"},
    }
    assigned: support_events.AssignmentData = {
        "session_id": SESSION_ID,
        "operator": {"id": 1, "name": "Алия"},
        "assigned_at": NOW.isoformat(),
    }
    operator(support_events.queue_frame([request, with_tour], [assigned], 1))
    operator(support_events.queue_frame([], [], 0, offset=50, total=10, assigned_total=0))
    operator(support_events.new_support_request_frame(with_tour))
    operator(support_events.support_request_taken_frame(SESSION_ID, {"id": 1, "name": "Алия"}))
    operator(support_events.support_request_taken_frame(SESSION_ID, None, "abandoned"))
    operator(
        support_events.operator_state_frame(
            {"id": 1, "name": "Алия"}, status="online", heartbeat_seconds=20
        )
    )
    operator(support_events.operator_status_frame("away"))
    entry = {"id": 1, "name": "Алия", "status": "online", "chats": 0, "capacity": 5}
    operator(support_events.operators_frame([entry]))
    ticket = {
        "id": 3,
        "name": "Иван",
        "phone": "+7 900 000-00-00",
        "email": "",
        "question": "Есть ли скидки?",
        "status": "new",
        "status_label": "Новая",
        "created_at": NOW.isoformat(),
        "session_id": None,
        "handled_by": None,
    }
    operator(support_events.offline_ticket_frame("new_offline_ticket", ticket))
    operator(support_events.offline_ticket_frame("offline_ticket_updated", ticket))


def test_error_frames():
    client_id = str(uuid.uuid4())
    window = Window(name="messages", key="k", limit=20, seconds=60)
    visitor(Throttled(Verdict(allowed=False, retry_after=3, window=window), client_id).as_frame())
    visitor(ClientError("invalid", "…", field="phone").as_frame())
    visitor(
        ClientError(
            "invalid", "…", proposal_id=SESSION_ID, reason="sold_out", free_places=2
        ).as_frame()
    )
    operator(ClientError("forbidden", "…", session_id=SESSION_ID, reason="capacity").as_frame())
    operator(ClientError("unavailable", "…", client_id=client_id).as_frame())


def test_what_the_protocol_does_not_allow_is_refused():
    with pytest.raises(AssertionError, match="unknown field"):
        visitor({**events.ai_typing_frame(True), "origin": "a channel name"})
    with pytest.raises(AssertionError, match="no frame of type"):
        visitor({"type": "queue", "requests": []})
    with pytest.raises(AssertionError, match="null"):
        visitor({"type": "message_ack", "client_id": None, "id": 1, "timestamp": ""})


def _propose_in_chat(session_id: str, tour_slug: str) -> None:
    """What the AI's `propose_booking` does with its answer: a card for the chat's group."""
    from django.db import transaction

    from chat.booking import propose_after_answer

    with transaction.atomic():
        session = ChatSession.objects.get(public_id=session_id)
        answer = ChatMessage.objects.filter(session=session, author="ai").latest("id")
        propose_after_answer(session, answer, [{"tour": tour_slug, "participants": 2}])


@pytest.mark.django_db(transaction=True)
async def test_the_operator_holding_a_chat_receives_its_booking_frames(visitor, operator):
    """The booking frames of a held chat reach its operator's side panel (no other test
    receives them on the operator socket)."""
    from channels.db import database_sync_to_async

    from chat.booking import operator_confirm
    from chat.publish import run_action
    from tests.factories import make_tour
    from tests.support.flows import in_conversation

    tour = await database_sync_to_async(make_tour)()
    guest, alia = await in_conversation(visitor, operator)

    await database_sync_to_async(_propose_in_chat)(guest.session_id, tour.slug)
    card, _ = await alia.until("booking_proposal", session_id=guest.session_id)
    assert card["tour"]["slug"] == tour.slug
    await guest.until("booking_proposal", proposal_id=card["proposal_id"])

    await guest.send(
        {
            "type": "confirm_booking",
            "proposal_id": card["proposal_id"],
            "idempotency_key": str(uuid.uuid4()),
            "name": "Анна Сафина",
            "phone": "+7 917 123-45-67",
        }
    )
    made, _ = await guest.until("booking_created")
    seen, _ = await alia.until("booking_created", proposal_id=card["proposal_id"])
    assert seen["booking"]["reference"] == made["booking"]["reference"]

    reference = made["booking"]["reference"]
    await run_action(operator_confirm, reference=reference, operator_id=alia.user_id)
    updated, _ = await alia.until("booking_updated", session_id=guest.session_id)
    assert (updated["booking"]["reference"], updated["booking"]["status"]) == (
        reference,
        "confirmed",
    )


# --- decoding: what msgspec refuses is redone so the error is the contract's -----------


def _refusal(decoder: Any, text: str) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        decoder.decode(text)
    return refused.value.as_frame()


def test_a_lone_surrogate_in_a_limited_field_names_that_field():
    from chat.frames_in import VISITOR_FRAMES

    # msgspec cannot read the escape at all, and its length check fails on it with an
    # encoding error: the field is still the one named, as before the typed frames.
    refused = _refusal(VISITOR_FRAMES, '{"type": "register", "token": "\\ud800"}')
    assert (refused["code"], refused["message"]) == (
        "invalid",
        "Поле «token» отсутствует или имеет неверный тип.",
    )


def test_a_lone_surrogate_in_a_field_nobody_reads_is_no_error():
    from chat.frames_in import VISITOR_FRAMES, Register

    frame = VISITOR_FRAMES.decode('{"type": "register", "after": 3, "note": "\\ud800"}')
    assert frame == Register(after=3)


def test_a_repeated_key_counts_as_the_json_module_reads_it_the_last():
    from chat.frames_in import VISITOR_FRAMES, Typing

    # msgspec takes the first `typing` and refuses "x"; the json module keeps the last.
    frame = VISITOR_FRAMES.decode('{"type": "typing", "typing": "x", "typing": true}')
    assert frame == Typing(typing=True)


def test_a_message_with_a_bad_text_echoes_its_client_id_and_one_with_a_bad_id_does_not():
    from support.frames_in import OPERATOR_FRAMES

    client_id = str(uuid.uuid4())
    text = '{"type": "message", "session_id": "%s", "client_id": "%s", "message": 5}'
    refused = _refusal(OPERATOR_FRAMES, text % (SESSION_ID, client_id.upper()))
    assert (refused["code"], refused["client_id"]) == ("invalid", client_id)
    refused = _refusal(OPERATOR_FRAMES, text % (SESSION_ID, "not-a-uuid"))
    assert "client_id" not in refused
    assert "«client_id»" in refused["message"]
