"""The operator queue as people see it: positions, estimates, and telling them.

`queue_snapshot` reads the queue in one DB hop. `announce_queue` tells every
waiting visitor their position and estimated wait when either changed
(`support_pending`) and sends operators a fresh `queue` when it changed.
It is called after every queue change and by each sweep; runs in different
processes coalesce through a Redis lock and a "dirty" flag, so visitors
never see an older position after a newer one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from chat.budget import LIST_BUDGET, SMALL_LIST_BUDGET, fit_first
from chat.events import session_group
from chat.models import ChatMessage
from chat.publish import Outgoing, send_events
from support import presence
from support.estimate import estimated_wait_seconds
from support.events import (
    OPERATORS_GROUP,
    AssignmentData,
    OperatorRef,
    RequestData,
    TourRef,
    iso,
    queue_frame,
    support_pending_frame,
)
from support.models import SupportRequest
from support.names import display_name
from tatartours import redis_lock
from tatartours.db_health import run_db
from tatartours.redis import get_redis

logger = logging.getLogger(__name__)

SENT_KEY = f"{presence.PREFIX}:pending-sent"  # hash: session id -> what its visitor was told
NOTES_KEY = f"{presence.PREFIX}:pending-requeued"  # set: session ids to tell "back in the queue"
DIGEST_KEY = f"{presence.PREFIX}:queue-digest"  # the last `queue` operators got
LOCK_KEY = f"{presence.PREFIX}:announce-lock"
DIRTY_KEY = f"{presence.PREFIX}:announce-dirty"
LOCK_TTL_MS = 15_000
RECENT_WAITS = 20
PREVIEW_CHARS = 200
QUEUE_PAGE = 50  # requests in one `queue` frame at most; the dashboard asks for more


def operator_ref(user: Any) -> OperatorRef:
    return {"id": user.pk, "name": display_name(user)}


def tour_ref(tour: Any) -> TourRef | None:
    if tour is None:
        return None
    return {"slug": tour.slug, "title": tour.title}


def user_ref(user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"name": user.get_full_name() or user.get_username()}


def _with_preview(requests: QuerySet[SupportRequest]) -> QuerySet[SupportRequest]:
    last_visitor_text = (
        ChatMessage.objects.filter(
            session_id=OuterRef("session_id"), author=ChatMessage.Author.VISITOR
        )
        .order_by("-id")
        .values("text")[:1]
    )
    return requests.annotate(preview=Subquery(last_visitor_text)).select_related(
        "session__tour", "session__user"
    )


def request_data(request: SupportRequest, position: int) -> RequestData:
    """The contract's Request for one waiting request (`preview` annotated or read)."""
    preview = getattr(request, "preview", None)
    if preview is None:
        preview = (
            ChatMessage.objects.filter(
                session_id=request.session_id, author=ChatMessage.Author.VISITOR
            )
            .order_by("-id")
            .values_list("text", flat=True)
            .first()
        )
    session = request.session
    data: RequestData = {
        "session_id": str(session.public_id),
        "waiting_since": request.queued_at.isoformat(),
        "preview": (preview or "")[:PREVIEW_CHARS],
        "position": position,
        "requested_at": request.requested_at.isoformat(),
        "reason": request.reason,
        "requeued": request.requeue_count > 0,
    }
    tour = tour_ref(session.tour)
    if tour is not None:
        data["tour"] = tour
    user = user_ref(session.user)
    if user is not None:
        data["user"] = user
    return data


def position_of(request: SupportRequest) -> int:
    """1 for first in line: the queue is ordered by (queued_at, id)."""
    ahead = SupportRequest.objects.filter(status=SupportRequest.Status.WAITING).filter(
        Q(queued_at__lt=request.queued_at) | Q(queued_at=request.queued_at, id__lt=request.pk)
    )
    return ahead.count() + 1


def recent_waits(now: Any = None) -> list[float]:
    """Seconds from (re)queueing to being taken, for the latest taken requests of a day."""
    now = now or timezone.now()
    rows = (
        SupportRequest.objects.filter(
            assigned_at__isnull=False, assigned_at__gte=now - timedelta(days=1)
        )
        .order_by("-assigned_at")
        .values_list("requested_at", "requeued_at", "assigned_at")[:RECENT_WAITS]
    )
    return [
        max(0.0, (assigned - (requeued or requested)).total_seconds())
        for requested, requeued, assigned in rows
        if assigned is not None
    ]


@dataclass(frozen=True)
class QueueSnapshot:
    requests: list[RequestData]  # waiting, first in line first (from position offset+1)
    assigned: list[AssignmentData]
    recent_waits: list[float]
    total: int  # waiting in all
    offset: int = 0


def queue_snapshot(offset: int = 0, limit: int | None = None) -> QueueSnapshot:
    """The waiting requests from position offset+1 (at most `limit`; all by default),
    every assignment, and the recent waits."""
    waiting = _with_preview(
        SupportRequest.objects.filter(status=SupportRequest.Status.WAITING).order_by(
            "queued_at", "id"
        )
    )
    total = waiting.count() if offset or limit is not None else None
    window = waiting[offset : offset + limit] if limit is not None else waiting[offset:]
    requests = [request_data(r, n) for n, r in enumerate(window, start=offset + 1)]
    assigned: list[AssignmentData] = []
    held = (
        SupportRequest.objects.filter(status=SupportRequest.Status.ASSIGNED)
        .select_related("session__tour", "operator__operator_profile")
        .order_by("assigned_at", "id")
    )
    for request in held:
        if request.operator is None:
            continue
        item: AssignmentData = {
            "session_id": str(request.session.public_id),
            "operator": operator_ref(request.operator),
            "assigned_at": iso(request.assigned_at),
        }
        tour = tour_ref(request.session.tour)
        if tour is not None:
            item["tour"] = tour
        assigned.append(item)
    total = len(requests) if total is None else total
    return QueueSnapshot(requests, assigned, recent_waits(), total, offset)


def _fingerprint(position: int, estimate: int | None) -> str:
    minutes = "-" if estimate is None else str(-(-estimate // 60))
    return f"{position}:{minutes}"


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def queue_page(snapshot: QueueSnapshot, available: int) -> dict[str, Any]:
    """The `queue` frame from the snapshot's first request: at most QUEUE_PAGE requests
    and the first assignments, each list within its byte budget (chat/budget.py)."""
    requests = fit_first(snapshot.requests, LIST_BUDGET, limit=QUEUE_PAGE)
    assigned = fit_first(snapshot.assigned, SMALL_LIST_BUDGET)
    return queue_frame(
        requests,
        assigned,
        available,
        offset=snapshot.offset,
        total=snapshot.total,
        assigned_total=len(snapshot.assigned),
    )


async def current_queue_frame(offset: int = 0) -> dict[str, Any]:
    """The `queue` an operator gets on connect and on `get_queue` (one page)."""
    available = len((await presence.snapshot()).available_ids)
    snapshot = await run_db(lambda: queue_snapshot(offset, QUEUE_PAGE))
    return queue_page(snapshot, available)


async def forget_told(session_id: str) -> None:
    """Tell this visitor their position again at the next announcement."""
    await get_redis().hdel(SENT_KEY, session_id)


async def mark_requeued(session_ids: list[str]) -> None:
    if session_ids:
        await get_redis().sadd(NOTES_KEY, *session_ids)


async def announce_queue() -> None:
    """Tell visitors and operators what changed in the queue; safe to call from anywhere.

    The caller marks the queue dirty, then the lock holder (this call or a
    concurrent one in any process) announces until it is clean. The flag is
    set before the lock is tried and checked again after it is released, so
    no change is left unannounced.
    """
    redis = get_redis()
    await redis.set(DIRTY_KEY, "1", px=LOCK_TTL_MS * 4)
    while True:
        token = secrets.token_hex(8)
        if not await redis_lock.take(LOCK_KEY, token, LOCK_TTL_MS):
            return  # the holder sees our flag
        try:
            while await redis.getdel(DIRTY_KEY):
                await _announce_once()
        finally:
            await redis_lock.give_back(LOCK_KEY, token)
        if not await redis.exists(DIRTY_KEY):
            return


async def announce_safely() -> None:
    """`announce_queue` after a committed change; a failed announcement is nobody's error.

    Positions are re-announced by the next change or sweep.
    """
    try:
        await announce_queue()
    except Exception:
        logger.warning("could not announce the queue", exc_info=True)


async def _announce_once() -> None:
    redis = get_redis()
    available = len((await presence.snapshot()).available_ids)
    snapshot = await run_db(queue_snapshot)
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(SENT_KEY)
    pipe.smembers(NOTES_KEY)
    pipe.get(DIGEST_KEY)
    sent_raw, notes_raw, digest_raw = await pipe.execute()
    sent = {_text(k): _text(v) for k, v in sent_raw.items()}
    notes = {_text(item) for item in notes_raw}

    events: list[Outgoing] = []
    told: dict[Any, str] = {}  # Any: redis-py's mapping key type is invariant
    waiting_ids: set[str] = set()
    for request in snapshot.requests:
        session_id = request["session_id"]
        waiting_ids.add(session_id)
        estimate = estimated_wait_seconds(
            position=request["position"],
            available_operators=available,
            recent_waits=snapshot.recent_waits,
            default=settings.SUPPORT_DEFAULT_WAIT_SECONDS,
        )
        fingerprint = _fingerprint(request["position"], estimate)
        requeued = session_id in notes
        if sent.get(session_id) != fingerprint or requeued:
            frame = support_pending_frame(
                position=request["position"], estimated_wait_seconds=estimate, requeued=requeued
            )
            events.append((session_group(session_id), frame))
            told[session_id] = fingerprint

    frame = queue_page(snapshot, available)
    digest = hashlib.sha256(json.dumps(frame, sort_keys=True).encode()).hexdigest()
    pipe = redis.pipeline(transaction=False)
    if told:
        pipe.hset(SENT_KEY, mapping=told)
    stale = [key for key in sent if key not in waiting_ids]
    if stale:
        pipe.hdel(SENT_KEY, *stale)
    told_notes = [key for key in notes if key in told or key not in waiting_ids]
    if told_notes:
        pipe.srem(NOTES_KEY, *told_notes)
    if digest_raw is None or _text(digest_raw) != digest:
        pipe.set(DIGEST_KEY, digest)
        events.append((OPERATORS_GROUP, frame))
    await pipe.execute()
    await send_events(events)
