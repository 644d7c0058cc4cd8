"""The support desk's state right now, read from Postgres and Redis at scrape time."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.db.models import Count

from support.models import SupportRequest


@dataclass(frozen=True)
class LiveState:
    queue_length: int
    chats_with_operator: int
    operators_online: int


def operators_online() -> int:
    """Operators with a dashboard socket open, from the support app's presence."""
    presence = importlib.import_module("support.presence")
    return int(presence.count_online())


def read_state() -> LiveState:
    open_requests = SupportRequest.objects.filter(
        status__in=[SupportRequest.Status.WAITING, SupportRequest.Status.ASSIGNED]
    )
    counts = {
        row["status"]: row["n"]
        for row in open_requests.values("status").annotate(n=Count("id")).order_by()
    }
    return LiveState(
        queue_length=counts.get(SupportRequest.Status.WAITING, 0),
        chats_with_operator=counts.get(SupportRequest.Status.ASSIGNED, 0),
        operators_online=operators_online(),
    )
