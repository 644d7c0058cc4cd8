"""Hand-built chat histories at chosen instants, for metrics whose right answer is known.

The actions stamp rows with "now"; metrics are about the past, so this
builder writes the rows it needs and then sets their timestamps. Days are
fixed dates in the site's time zone (Europe/Moscow), never "today", so the
expected numbers never depend on when the suite runs.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model

from chat.models import ChatMessage, ChatSession, Rating
from support.models import SupportRequest
from tours.models import Tour

DAY1 = date(2025, 3, 10)
DAY2 = date(2025, 3, 11)
DAY3 = date(2025, 3, 12)


def local(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """An instant on `day` in the site's time zone."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=ZoneInfo(settings.TIME_ZONE))


def operator_user(username: str = "aliya") -> Any:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    return user


class Chat:
    """One chat session whose messages, handoffs and ratings are written at given instants."""

    def __init__(self, at: datetime, *, tour: Tour | None = None) -> None:
        self.session = ChatSession.objects.create(
            token_hash=secrets.token_hex(32),
            token_expires_at=at + timedelta(days=30),
            tour=tour,
        )
        ChatSession.objects.filter(pk=self.session.pk).update(created_at=at, last_activity_at=at)

    def _message(self, at: datetime, **fields: Any) -> ChatMessage:
        message = ChatMessage.objects.create(session=self.session, **fields)
        ChatMessage.objects.filter(pk=message.pk).update(created_at=at)
        ChatSession.objects.filter(pk=self.session.pk).update(last_activity_at=at)
        message.created_at = at
        return message

    def visitor(self, text: str, at: datetime) -> ChatMessage:
        return self._message(
            at, author=ChatMessage.Author.VISITOR, text=text, client_id=secrets.token_hex(8)
        )

    def ai(
        self,
        at: datetime,
        *,
        text: str = "Ответ ассистента",
        model: str = "openai/gpt-4",
        source: str = ChatMessage.AISource.MODEL,
        latency_ms: int | None = None,
        first_token_ms: int | None = None,
        meta: dict[str, Any] | None = None,
        **fields: Any,
    ) -> ChatMessage:
        return self._message(
            at,
            author=ChatMessage.Author.AI,
            text=text,
            ai_source=source,
            ai_model=model,
            ai_latency_ms=latency_ms,
            ai_first_token_ms=first_token_ms,
            meta=meta or {},
            **fields,
        )

    def operator(self, text: str, at: datetime, user: Any = None) -> ChatMessage:
        return self._message(
            at, author=ChatMessage.Author.OPERATOR, text=text, operator=user or operator_user()
        )

    def handoff(
        self,
        requested_at: datetime,
        *,
        wait_s: float | None = None,
        first_reply_s: float | None = None,
        closed_after_s: float | None = None,
        status: str | None = None,
    ) -> SupportRequest:
        """A support request taken `wait_s` after it was made; first reply `first_reply_s` on."""
        assigned_at = requested_at + timedelta(seconds=wait_s) if wait_s is not None else None
        first_reply_at = (
            assigned_at + timedelta(seconds=first_reply_s)
            if assigned_at is not None and first_reply_s is not None
            else None
        )
        closed_at = (
            requested_at + timedelta(seconds=closed_after_s) if closed_after_s is not None else None
        )
        if status is None:
            status = (
                SupportRequest.Status.CLOSED
                if closed_at
                else SupportRequest.Status.ASSIGNED
                if assigned_at
                else SupportRequest.Status.WAITING
            )
        request = SupportRequest.objects.create(
            session=self.session,
            status=status,
            queued_at=requested_at,
            assigned_at=assigned_at,
            first_reply_at=first_reply_at,
            closed_at=closed_at,
            operator=operator_user() if assigned_at else None,
        )
        SupportRequest.objects.filter(pk=request.pk).update(requested_at=requested_at)
        request.requested_at = requested_at
        return request

    def rate(
        self, score: int, at: datetime, *, support_request: SupportRequest | None = None
    ) -> Rating:
        rating = Rating.objects.create(
            session=self.session, support_request=support_request, score=score
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=at)
        return rating


def chat_booking(chat: Chat, tour: Tour, participants: int, at: datetime, **fields: Any) -> Any:
    """A booking made with the chat's card at `at` (a BookingProposal links it to the chat)."""
    from chat.models import BookingProposal
    from tours.models import Booking

    booking = Booking.objects.create(
        tour=tour, contact_name="Гость", phone="+79170000000", participants=participants, **fields
    )
    Booking.objects.filter(pk=booking.pk).update(created_at=at)
    BookingProposal.objects.create(
        session=chat.session,
        tour=tour,
        participants=participants,
        origin=BookingProposal.Origin.MODEL,
        booking=booking,
        expires_at=at + timedelta(hours=2),
    )
    return booking


def cost(value: str) -> Decimal:
    return Decimal(value)
