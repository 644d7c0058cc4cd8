"""The support desk's state right now, read from Postgres and Redis at scrape time.

Every server process reports the same true values, whichever one Prometheus
scrapes. A store that cannot be read leaves its figures out (None) instead
of reporting a misleading zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django.db.models import Count

from support import presence
from support.models import SupportRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveState:
    queue_length: int | None  # requests waiting for an operator
    chats_with_operator: int | None  # requests an operator holds
    operators_online: int | None  # operators with a live dashboard socket
    operators_available: int | None  # online and not "away"


def _requests_by_status() -> dict[str, int]:
    rows = (
        SupportRequest.objects.filter(
            status__in=[SupportRequest.Status.WAITING, SupportRequest.Status.ASSIGNED]
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def read_state() -> LiveState:
    """Sync (a view thread): one query to Postgres, one presence snapshot from Redis."""
    try:
        counts: dict[str, int] | None = _requests_by_status()
    except Exception:
        logger.warning("could not count the support queue for /metrics", exc_info=True)
        counts = None
    try:
        snapshot: presence.PresenceSnapshot | None = async_to_sync(presence.snapshot)()
    except Exception:
        logger.warning("could not read operator presence for /metrics", exc_info=True)
        snapshot = None
    return LiveState(
        queue_length=None if counts is None else counts.get(SupportRequest.Status.WAITING, 0),
        chats_with_operator=(
            None if counts is None else counts.get(SupportRequest.Status.ASSIGNED, 0)
        ),
        operators_online=None if snapshot is None else len(snapshot.online_ids),
        operators_available=None if snapshot is None else len(snapshot.available_ids),
    )
