"""Data retention: delete chats nobody has touched for a while.

A chat session goes, with its messages, support requests and ratings
(cascade), when its last activity is older than the cut-off and it has no
open support request (waiting or with an operator). Offline tickets left
from such a chat are kept; only their link to the chat is cleared.
The daily counters hold no personal data and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from chat.models import ChatMessage, ChatSession, Rating
from support.models import OfflineTicket, SupportRequest

BATCH = 500
OPEN = (SupportRequest.Status.WAITING, SupportRequest.Status.ASSIGNED)


@dataclass
class Counts:
    sessions: int = 0
    messages: int = 0
    support_requests: int = 0
    ratings: int = 0
    tickets_unlinked: int = 0
    other: dict[str, int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("chat sessions", self.sessions),
            ("messages", self.messages),
            ("support requests", self.support_requests),
            ("ratings", self.ratings),
            ("offline tickets unlinked (kept)", self.tickets_unlinked),
            *sorted(self.other.items()),
        ]


def stale_sessions(cutoff: datetime) -> QuerySet[ChatSession]:
    return ChatSession.objects.filter(last_activity_at__lt=cutoff).exclude(
        support_requests__status__in=OPEN
    )


def count(cutoff: datetime) -> Counts:
    """What `purge(cutoff)` would delete now."""
    ids = stale_sessions(cutoff).values("pk")
    return Counts(
        sessions=stale_sessions(cutoff).count(),
        messages=ChatMessage.objects.filter(session__in=ids).count(),
        support_requests=SupportRequest.objects.filter(session__in=ids).count(),
        ratings=Rating.objects.filter(session__in=ids).count(),
        tickets_unlinked=OfflineTicket.objects.filter(session__in=ids).count(),
    )


_LABELS = {
    ChatSession._meta.label: "sessions",
    ChatMessage._meta.label: "messages",
    SupportRequest._meta.label: "support_requests",
    Rating._meta.label: "ratings",
}


def purge(cutoff: datetime, batch: int = BATCH) -> Counts:
    """Delete the stale chats in batches (short transactions); returns what was deleted."""
    done = Counts()
    while True:
        with transaction.atomic():
            pks = list(
                stale_sessions(cutoff)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch]
            )
            if not pks:
                return done
            done.tickets_unlinked += OfflineTicket.objects.filter(session__in=pks).count()
            _, per_model = ChatSession.objects.filter(pk__in=pks).delete()
        for label, n in per_model.items():
            name = _LABELS.get(label)
            if name is None:
                done.other[label] = done.other.get(label, 0) + n
            else:
                setattr(done, name, getattr(done, name) + n)
