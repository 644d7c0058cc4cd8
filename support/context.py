"""What an operator sees when they hold a chat: `support_chat_joined`.

The whole transcript (the AI's part included and marked by its author),
the tour the visitor is looking at, and who the visitor is: their account
and bookings when they are logged in. Read in one DB hop by the socket
that opens the chat, never sent whole through the channel layer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import NoReverseMatch

from chat.booking import proposals_by_message, session_bookings
from chat.budget import fit_last
from chat.events import message_data
from chat.models import ChatMessage, ChatSession
from support.events import iso
from support.models import SupportRequest
from tours.models import Booking, Tour
from tours.templatetags.tours_extras import date_range, long_date, rub

BOOKINGS_SHOWN = 20


def tour_info(tour: Tour | None) -> dict[str, Any] | None:
    if tour is None:
        return None
    try:
        url = tour.get_absolute_url()
    except NoReverseMatch:
        url = ""
    return {
        "slug": tour.slug,
        "title": tour.title,
        "place": tour.place,
        "price_per_person": str(tour.price_per_person),
        "start_date": tour.start_date.isoformat(),
        "end_date": tour.end_date.isoformat(),
        # Extensions: the same Russian formatting as the site ("21 декабря 2026", "3 200 ₽").
        "dates_label": date_range(tour.start_date, tour.end_date),
        "price_label": rub(tour.price_per_person),
        "duration_hours": tour.duration_hours,
        "free_places": tour.free_places,
        "published": tour.status == Tour.Status.PUBLISHED,
        "url": url,
    }


def _bookings(user_id: int) -> list[dict[str, Any]]:
    rows = Booking.objects.filter(user_id=user_id).select_related("tour")[:BOOKINGS_SHOWN]
    return [
        {
            "reference": b.reference,
            "tour": b.tour.title,
            "tour_slug": b.tour.slug,
            "start_date": b.tour.start_date.isoformat(),
            "start_date_label": long_date(b.tour.start_date),
            "participants": b.participants,
            "status": b.status,
            "status_label": str(b.get_status_display()),
            "created_at": b.created_at.isoformat(),
        }
        for b in rows
    ]


def visitor_info(session: ChatSession) -> dict[str, Any]:
    user = session.user
    info: dict[str, Any] = {
        "user": None,
        "bookings": [],
        "ip": session.client_ip,
        "user_agent": session.user_agent,
        "since": session.created_at.isoformat(),
        "previous_requests": SupportRequest.objects.filter(
            session=session,
            status__in=[SupportRequest.Status.CLOSED, SupportRequest.Status.ABANDONED],
        ).count(),
    }
    if user is not None:
        info["user"] = {
            "id": user.pk,
            "username": user.get_username(),
            "name": user.get_full_name(),
            "email": user.email,
        }
        info["bookings"] = _bookings(user.pk)
    # Extension (chat/booking.py): what was booked in this very chat, anonymous or not.
    info["chat_bookings"] = session_bookings(session.pk)
    return info


def transcript(session: ChatSession) -> list[dict[str, Any]]:
    messages = (
        ChatMessage.objects.filter(session=session)
        .select_related("operator__operator_profile")
        .order_by("id")
    )
    result: list[dict[str, Any]] = []
    proposals = proposals_by_message(session.pk)
    for message in messages:
        data: dict[str, Any] = dict(message_data(message))
        if message.author == ChatMessage.Author.AI:
            data["source"] = message.ai_source
            if message.id in proposals:
                data["booking_proposal"] = proposals[message.id]
        result.append(data)
    return result


def chat_context(
    *, operator_id: int, session_id: UUID | str, transferred_from: str | None = None
) -> dict[str, Any] | None:
    """`support_chat_joined` for the operator holding the chat; None if they do not hold it."""
    request = (
        SupportRequest.objects.filter(
            session__public_id=session_id,
            status=SupportRequest.Status.ASSIGNED,
            operator_id=operator_id,
        )
        .select_related("session__tour", "session__user")
        .first()
    )
    if request is None:
        return None
    session = request.session
    messages = transcript(session)
    # A long chat is cut to its newest messages that fit one frame (chat/budget.py).
    shown = fit_last(messages)
    return {
        "type": "support_chat_joined",
        "session_id": str(session.public_id),
        "messages": shown,
        "messages_omitted": len(messages) - len(shown),
        "visitor": visitor_info(session),
        "tour": tour_info(session.tour),
        # Extensions: the request behind the chat, and who handed it over.
        "request": {
            "reason": request.reason,
            "requested_at": iso(request.requested_at),
            "assigned_at": iso(request.assigned_at),
            "first_reply_at": iso(request.first_reply_at),
            "requeue_count": request.requeue_count,
        },
        "transferred_from": transferred_from,
    }


def held_session_ids(operator_id: int) -> list[str]:
    """The chats this operator holds now, oldest first: reopened after a reload."""
    rows = (
        SupportRequest.objects.filter(
            operator_id=operator_id, status=SupportRequest.Status.ASSIGNED
        )
        .order_by("assigned_at", "id")
        .values_list("session__public_id", flat=True)
    )
    return [str(public_id) for public_id in rows]
