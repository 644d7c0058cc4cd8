"""Chat transcripts for export: one record per chat session, as JSON or readable text.

What is exported: the session's public id (never its token hash), status,
tour, linked site user, messages (author, text, time, operator name, AI
model and source), support requests with their timestamps, and ratings.
The visitor's IP address and user agent are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.metrics import Period
from chat.models import ChatMessage, ChatSession, Rating
from support.models import SupportRequest
from support.names import display_name


@dataclass(frozen=True)
class Selection:
    """Which sessions, and which of their messages, to export."""

    session: UUID | None = None
    since: date | None = None
    until: date | None = None

    def period(self) -> Period | None:
        if self.since is None and self.until is None:
            return None
        until = self.until or timezone.localdate()
        return Period(self.since or until, until)


def _message_filter(selection: Selection) -> Q:
    period = selection.period()
    if period is None:
        return Q()
    return Q(created_at__gte=period.start, created_at__lt=period.end)


def sessions(selection: Selection) -> QuerySet[ChatSession]:
    """The sessions to export, oldest first, with their rows prefetched.

    With a date range: sessions with a message in the range, and only those
    messages. With --session: that session (and its messages in the range,
    if one is given too).
    """
    in_range = _message_filter(selection)
    chosen = ChatSession.objects.all()
    if selection.session is not None:
        chosen = chosen.filter(public_id=selection.session)
    if selection.period() is not None:
        ids = ChatMessage.objects.filter(in_range).values("session_id")
        chosen = chosen.filter(pk__in=ids)
    return (
        chosen.select_related("tour", "user")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=ChatMessage.objects.filter(in_range)
                .select_related("operator__operator_profile")
                .order_by("id"),
            ),
            Prefetch(
                "support_requests",
                queryset=SupportRequest.objects.select_related(
                    "operator__operator_profile"
                ).order_by("requested_at"),
            ),
            Prefetch("ratings", queryset=Rating.objects.order_by("created_at")),
        )
        .order_by("created_at", "id")
    )


def _time(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def record(session: ChatSession) -> dict[str, Any]:
    """One session as plain JSON data."""
    return {
        "session_id": str(session.public_id),
        "created_at": _time(session.created_at),
        "last_activity_at": _time(session.last_activity_at),
        "status": session.status,
        "tour": session.tour.slug if session.tour else None,
        "user": session.user.get_username() if session.user else None,
        "messages": [
            {
                "id": m.id,
                "author": m.author,
                "text": m.text,
                "created_at": _time(m.created_at),
                **({"operator": display_name(m.operator)} if m.operator else {}),
                **(
                    {"ai_source": m.ai_source, "ai_model": m.ai_model}
                    if m.author == ChatMessage.Author.AI
                    else {}
                ),
            }
            for m in session.messages.all()
        ],
        "support_requests": [
            {
                "status": r.status,
                "reason": r.reason,
                "operator": display_name(r.operator) if r.operator else None,
                "requested_at": _time(r.requested_at),
                "assigned_at": _time(r.assigned_at),
                "first_reply_at": _time(r.first_reply_at),
                "closed_at": _time(r.closed_at),
                "closed_by": r.closed_by or None,
            }
            for r in session.support_requests.all()
        ],
        "ratings": [
            {
                "score": g.score,
                "comment": g.comment,
                "operator_conversation": g.support_request_id is not None,
                "created_at": _time(g.created_at),
            }
            for g in session.ratings.all()
        ],
    }


def _author(message: dict[str, Any]) -> str:
    author = message["author"]
    if author == ChatMessage.Author.VISITOR:
        return _("Visitor")
    if author == ChatMessage.Author.AI:
        model = message.get("ai_model") or message.get("ai_source") or ""
        return _("AI assistant") + (f" ({model})" if model else "")
    if author == ChatMessage.Author.OPERATOR:
        name = message.get("operator") or ""
        return _("Operator") + (f" {name}" if name else "")
    return _("System")


def _stamp(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else "?"


def text(data: dict[str, Any]) -> Iterator[str]:
    """One session as readable lines."""
    header = _("Chat %(id)s · started %(at)s · status %(status)s") % {
        "id": data["session_id"],
        "at": _stamp(data["created_at"]),
        "status": data["status"],
    }
    if data["tour"]:
        header += " · " + _("tour %(slug)s") % {"slug": data["tour"]}
    yield f"=== {header}"
    for message in data["messages"]:
        yield f"[{_stamp(message['created_at'])}] {_author(message)}: {message['text']}"
    for request in data["support_requests"]:
        yield "--- " + _("Operator requested %(at)s, status %(status)s, operator %(name)s") % {
            "at": _stamp(request["requested_at"]),
            "status": request["status"],
            "name": request["operator"] or "—",
        }
    for rating in data["ratings"]:
        kind = _("operator") if rating["operator_conversation"] else _("AI")
        comment = f" «{rating['comment']}»" if rating["comment"] else ""
        yield (
            "--- "
            + _("Rating %(score)d/5 (%(kind)s)")
            % {
                "score": rating["score"],
                "kind": kind,
            }
            + comment
        )
    yield ""
