"""The support queue's state changes. Consumers, views, admin and commands call these.

Sync actions are one DB unit each (run them through `chat.publish.run_action`
from async code): they lock what they change, check their precondition
under the lock, write, and publish their events on commit. Every action
that moves a chat between the AI, the queue and an operator locks the
ChatSession row and sets its status in the same transaction; that is what
`chat.actions.store_ai_answer` checks under the same lock, so no AI message
can follow `support_joined`.

Async functions at the bottom read presence (Redis) before the DB unit, so
no network call happens inside a transaction: `request_support_async`,
`do_request_support`, `sweep`, `maybe_sweep`, `operators_frame_now`. The
other flows' `do_*` are in support/flows.py (table: docs/support.md, "The
action layer").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal
from uuid import UUID

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.errors import ClientError
from chat.events import MessageData, message_data, session_group
from chat.hooks import instrumentation
from chat.message_rows import (
    lock_session_by_public_id,
    message_by_client_id,
    message_by_client_id_async,
)
from chat.models import ChatMessage, ChatSession
from chat.publish import publish_on_commit, run_action, send_events
from support import presence
from support.access import (
    PERMISSION,
    Access,
    Grant,
    session_operator_access_async,
    uses_db_sessions,
)
from support.events import (
    OPERATORS_GROUP,
    OperatorRef,
    UnavailableReason,
    assigned_event,
    closed_notice,
    joined_notice,
    new_support_request_frame,
    offline_ticket_frame,
    operator_group,
    operator_message_frame,
    operators_frame,
    released_event,
    support_joined_frame,
    support_request_taken_frame,
    support_unavailable_frame,
    visitor_chat_closed_frame,
)
from support.models import OfflineTicket, SupportRequest
from support.names import display_name
from support.queue import (
    announce_queue,
    announce_safely,
    forget_told,
    mark_requeued,
    operator_ref,
    position_of,
    request_data,
)
from support.request_rows import (
    StoredOperatorMessage,
    operator_message_batch_row,
    operator_message_result,
    operator_message_statement,
)
from support.tickets import TicketFields, ticket_data
from tatartours import async_db, group_commit
from tatartours.db_health import run_db
from tatartours.lean_rows import insert
from tatartours.redis import get_redis
from tours.hours import within_working_hours, working_hours_label

logger = logging.getLogger(__name__)

OPEN_STATUSES = (SupportRequest.Status.WAITING, SupportRequest.Status.ASSIGNED)
Outcome = Literal["queued", "pending", "operator", "unavailable"]


def _locked_session(session_id: UUID | str) -> ChatSession:
    session = lock_session_by_public_id(session_id)
    if session is None:
        raise ClientError("not_found", _("There is no such chat."), session_id=str(session_id))
    return session


def _operator(user_id: int, *, lock: bool = False) -> Any:
    users = get_user_model().objects.select_related("operator_profile")
    if lock:
        users = users.select_for_update(of=("self",))
    return users.filter(pk=user_id, is_active=True).first()


def capacity_of(user: Any) -> int:
    profile = getattr(user, "operator_profile", None)
    if profile is not None and profile.max_chats:
        return int(profile.max_chats)
    return int(settings.SUPPORT_MAX_CHATS_PER_OPERATOR)


def held_count(user_id: int) -> int:
    return SupportRequest.objects.filter(
        operator_id=user_id, status=SupportRequest.Status.ASSIGNED
    ).count()


def _check_capacity(user: Any, *, session_id: str, own: bool) -> None:
    if held_count(user.pk) >= capacity_of(user):
        if own:
            message = _("You already hold as many chats as you can (%(n)d). Close one first.")
        else:
            message = _("This operator already holds as many chats as they can (%(n)d).")
        raise ClientError(
            "forbidden",
            message % {"n": capacity_of(user)},
            session_id=session_id,
            reason="capacity",
        )


def _store_notice(session: ChatSession, text: str) -> MessageData:
    """Keep a notice the visitor is shown as a system message of the chat.

    So a reload (or another tab) shows the conversation as the visitor saw it:
    who joined, that the operator conversation ended. Part of the caller's
    transaction; the frame that announces the change carries it as `notice`.
    """
    stored = insert(ChatMessage(session=session, author=ChatMessage.Author.SYSTEM, text=text))
    instrumentation().message_stored(stored)
    return message_data(stored)


# --- Queueing -------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportOutcome:
    kind: Outcome
    session_id: str
    operator_name: str = ""


@transaction.atomic
def request_support(
    *, session_pk: int, reason: str = "", unavailable: UnavailableReason | None = None
) -> SupportOutcome:
    """Put the chat in the operator queue, unless it is there or with an operator already.

    Precondition, checked under the session row lock: no open request for
    this chat. With `unavailable` (nobody online, outside working hours)
    nothing is written; the caller tells the visitor.
    """
    session = ChatSession.objects.select_for_update().get(pk=session_pk)
    session_id = str(session.public_id)
    current = (
        SupportRequest.objects.filter(session=session, status__in=OPEN_STATUSES)
        .select_related("operator__operator_profile")
        .first()
    )
    if current is not None:
        if current.status == SupportRequest.Status.ASSIGNED:
            name = display_name(current.operator) if current.operator else ""
            return SupportOutcome("operator", session_id, name)
        return SupportOutcome("pending", session_id)
    if unavailable is not None:
        return SupportOutcome("unavailable", session_id)

    request = SupportRequest.objects.create(
        session=session, reason=reason.strip()[:500], queued_at=timezone.now()
    )
    session.status = ChatSession.Status.PENDING
    session.save(update_fields=["status"])
    request.session = session
    publish_on_commit(
        OPERATORS_GROUP, new_support_request_frame(request_data(request, position_of(request)))
    )
    return SupportOutcome("queued", session_id)


# --- Claiming, relaying, closing, transferring -----------------------------------------


@dataclass(frozen=True)
class Claim:
    session_id: str
    operator: OperatorRef
    already_held: bool


@transaction.atomic
def join_support_chat(*, operator_id: int, session_id: UUID | str) -> Claim:
    """Take a chat from the queue. Exactly one operator wins a race.

    Precondition: the chat's request is waiting. The operator row is locked
    first (so one operator's concurrent claims respect their capacity), then
    the session row; the request changes only `WHERE status = 'waiting'`, so
    of several operators exactly one updates a row; the others get
    `already_taken`.
    """
    operator = _operator(operator_id, lock=True)
    if operator is None:
        raise ClientError("forbidden", _("Your account cannot take chats."))
    session = _locked_session(session_id)
    sid = str(session.public_id)
    held = SupportRequest.objects.filter(
        session=session, status=SupportRequest.Status.ASSIGNED
    ).first()
    if held is not None:
        if held.operator_id == operator_id:
            # A second click or another tab: open it again, change nothing.
            publish_on_commit(operator_group(operator_id), assigned_event(sid))
            return Claim(sid, operator_ref(operator), already_held=True)
        raise ClientError(
            "already_taken", _("Another operator has already taken this chat."), session_id=sid
        )
    _check_capacity(operator, session_id=sid, own=True)
    taken = SupportRequest.objects.filter(
        session=session, status=SupportRequest.Status.WAITING
    ).update(status=SupportRequest.Status.ASSIGNED, operator=operator, assigned_at=timezone.now())
    if taken != 1:
        raise ClientError(
            "not_found", _("This chat is no longer waiting for an operator."), session_id=sid
        )
    session.status = ChatSession.Status.OPERATOR
    session.save(update_fields=["status"])
    ref = operator_ref(operator)
    publish_on_commit(OPERATORS_GROUP, support_request_taken_frame(sid, ref))
    notice = _store_notice(session, joined_notice(ref["name"]))
    publish_on_commit(session_group(sid), support_joined_frame(ref["name"], notice=notice))
    publish_on_commit(operator_group(operator_id), assigned_event(sid))
    return Claim(sid, ref, already_held=False)


@dataclass(frozen=True)
class PostedOperatorMessage:
    message: ChatMessage
    created: bool
    session_id: str
    # The Grant the socket's access was last decided on (do_post_operator_message).
    grant: Grant | None = None


class AccessLost(Exception):
    """The operator's socket lost its access ("login" or "forbidden"): nothing was stored."""

    def __init__(self, access: Access) -> None:
        super().__init__(access)
        self.access = access


def _statement_for(
    *,
    operator_id: int,
    session_id: UUID | str,
    client_id: str,
    text: str,
    session_key: str | None,
    grant: Grant | None,
) -> tuple[str, dict[str, Any]]:
    try:
        public_id = UUID(str(session_id))
    except ValueError:
        raise ClientError(
            "not_found", _("There is no such chat."), session_id=str(session_id)
        ) from None
    return operator_message_statement(
        operator_id=operator_id,
        session_id=public_id,
        client_id=client_id,
        text=text,
        now=timezone.now(),
        session_key=session_key,
        grant=grant,
    )


def _accepted_operator_message(
    stored: StoredOperatorMessage | None,
    *,
    operator_id: int,
    session_id: UUID | str,
    client_id: str,
    text: str,
) -> ChatMessage:
    """The rules of an operator message, on what its statement did.

    A retry of a message already stored is answered even after the chat
    closed (like the visitor's); the same client_id for another message is
    `invalid`; otherwise only the active operator who holds the chat may write.
    """
    if stored is None:
        raise ClientError("not_found", _("There is no such chat."), session_id=str(session_id))
    sid = str(stored.session_public_id)
    message = stored.message
    if stored.created:
        assert message is not None
        return message
    if message is not None:
        if (
            message.author != ChatMessage.Author.OPERATOR
            or message.operator_id != operator_id
            or message.text != text
        ):
            raise ClientError(
                "invalid",
                _("This client_id was already used for another message."),
                client_id=client_id,
                session_id=sid,
            )
        return message
    raise ClientError(
        "forbidden",
        _("Only the operator who holds this chat can write in it."),
        client_id=client_id,
        session_id=sid,
    )


def _holds(stored: StoredOperatorMessage, operator_id: int) -> bool:
    return stored.holder_id == operator_id and stored.holder_active


def _operator_message_event(
    stored: StoredOperatorMessage, message: ChatMessage
) -> tuple[str, dict[str, Any]]:
    sid = str(stored.session_public_id)
    return session_group(sid), operator_message_frame(message, sid, stored.holder_name)


@transaction.atomic
def post_operator_message(
    *, operator_id: int, session_id: UUID | str, client_id: str, text: str
) -> PostedOperatorMessage:
    """Store the operator's message once per `client_id`, then deliver it (sync callers).

    The statement of `do_post_operator_message` without the socket's access
    check (the admin and commands authorise their own way), inside this
    transaction, announced on commit.
    """
    sql, params = _statement_for(
        operator_id=operator_id,
        session_id=session_id,
        client_id=client_id,
        text=text,
        session_key=None,
        grant=None,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    stored = operator_message_result(row, operator_id=operator_id, client_id=client_id, text=text)
    if (
        stored is not None
        and not stored.created
        and stored.message is None
        and _holds(stored, operator_id)
    ):
        # Committed by a concurrent retry while the statement waited for the lock.
        stored = replace(stored, message=message_by_client_id(stored.session_pk, client_id))
    message = _accepted_operator_message(
        stored, operator_id=operator_id, session_id=session_id, client_id=client_id, text=text
    )
    assert stored is not None
    if stored.created:
        instrumentation().message_stored(message)
        publish_on_commit(*_operator_message_event(stored, message))
    return PostedOperatorMessage(message, stored.created, str(stored.session_public_id))


async def do_post_operator_message(
    *,
    operator_id: int,
    session_id: UUID | str,
    client_id: str,
    text: str,
    session_key: str | None,
    grant: Grant | None,
    origin: str | None = None,
    seen: presence.OperatorSocket | None = None,
) -> PostedOperatorMessage:
    """The operator's message, on the event loop: one statement, then the announcement.

    The statement (support/request_rows.py) locks the session row, checks
    that this operator holds the chat and that the socket's access still
    stands as `grant` (its last "ok") says, stores the message once per
    client_id, stamps the request's first reply and the session's activity.
    When it stored nothing, the access is read and decided again
    (support/access.py): lost -> `AccessLost`, nothing stored; still "ok" on
    changed rows (a new grant) -> the statement runs once more. Then the
    holder and retry rules (`_accepted_operator_message`); a new message is
    announced to the chat group (not to `origin`, which gets the ack).
    `seen`: the sending socket, whose presence this activity refreshes.
    """
    if seen is not None:
        await seen.active()
    if session_key is not None and not uses_db_sessions():
        # Sessions that are not rows of django_session: checked through the store first.
        access, grant = await session_operator_access_async(session_key, operator_id)
        if access != "ok":
            raise AccessLost(access)
        session_key = None
    for attempt in range(2):
        sql, params = _statement_for(
            operator_id=operator_id,
            session_id=session_id,
            client_id=client_id,
            text=text,
            session_key=session_key,
            grant=grant,
        )

        # Committed with the other messages of the moment (tatartours/group_commit.py).
        # The chat's id as the visitor's side spells it (the frame may write it in
        # capitals or without dashes): both sides lock their chats in one order.
        row = await group_commit.fetchone(
            sql,
            params,
            lock_order=str(params["session_id"]),
            batch=operator_message_batch_row(params),
        )
        stored = operator_message_result(
            row, operator_id=operator_id, client_id=client_id, text=text
        )
        if stored is None or stored.created:
            break
        decided = grant
        if session_key is not None:
            # Nothing stored: the grant may no longer hold. Decided afresh, in a
            # statement of its own: the message statement reads only what the
            # grant names, by key (support/access.py, `grant_holds_sql`).
            access, decided = await session_operator_access_async(session_key, operator_id)
            if access != "ok":
                raise AccessLost(access)
        if decided == grant or attempt:
            if stored.message is None and _holds(stored, operator_id):
                # Committed by a concurrent retry while the statement waited for the lock.
                read = partial(
                    message_by_client_id_async, session_pk=stored.session_pk, client_id=client_id
                )
                earlier = await async_db.run(read)
                stored = replace(stored, message=earlier)
            break
        grant = decided  # The access stands on changed rows: store with it.
    message = _accepted_operator_message(
        stored, operator_id=operator_id, session_id=session_id, client_id=client_id, text=text
    )
    assert stored is not None
    if stored.created:
        instrumentation().message_committed(message)
        await send_events([_operator_message_event(stored, message)], origin=origin)
    return PostedOperatorMessage(
        message, stored.created, str(stored.session_public_id), grant=grant
    )


def _finish(request: SupportRequest, session: ChatSession, by: SupportRequest.ClosedBy) -> None:
    """End an operator conversation: the AI answers again, the visitor may rate it."""
    SupportRequest.objects.filter(pk=request.pk).update(
        status=SupportRequest.Status.CLOSED, closed_at=timezone.now(), closed_by=by
    )
    session.status = ChatSession.Status.CLOSED
    session.save(update_fields=["status"])
    sid = str(session.public_id)
    notice = _store_notice(session, closed_notice(by, ask_rating=True))
    publish_on_commit(
        session_group(sid), visitor_chat_closed_frame(by, notice=notice, ask_rating=True)
    )
    if request.operator_id is not None:
        publish_on_commit(
            operator_group(request.operator_id),
            released_event(sid, by=by, reason="closed"),
        )


@transaction.atomic
def close_chat(*, operator_id: int, session_id: UUID | str) -> None:
    """The operator ends the conversation. Precondition: they hold the chat."""
    session = _locked_session(session_id)
    request = SupportRequest.objects.filter(
        session=session, status=SupportRequest.Status.ASSIGNED
    ).first()
    if request is None or request.operator_id != operator_id:
        raise ClientError(
            "forbidden",
            _("Only the operator who holds this chat can close it."),
            session_id=str(session.public_id),
        )
    _finish(request, session, SupportRequest.ClosedBy.OPERATOR)


@transaction.atomic
def end_support_by_visitor(*, session_pk: int) -> Literal["closed", "cancelled"]:
    """The visitor leaves the queue or ends the conversation with the operator."""
    session = ChatSession.objects.select_for_update().get(pk=session_pk)
    request = SupportRequest.objects.filter(session=session, status__in=OPEN_STATUSES).first()
    if request is None:
        raise ClientError("invalid", _("You are not talking to an operator."))
    if request.status == SupportRequest.Status.ASSIGNED:
        _finish(request, session, SupportRequest.ClosedBy.VISITOR)
        return "closed"
    SupportRequest.objects.filter(pk=request.pk).update(
        status=SupportRequest.Status.ABANDONED,
        closed_at=timezone.now(),
        closed_by=SupportRequest.ClosedBy.VISITOR,
    )
    session.status = ChatSession.Status.AI
    session.save(update_fields=["status"])
    sid = str(session.public_id)
    notice = _store_notice(session, closed_notice("visitor", ask_rating=False))
    publish_on_commit(
        session_group(sid), visitor_chat_closed_frame("visitor", ask_rating=False, notice=notice)
    )
    publish_on_commit(OPERATORS_GROUP, support_request_taken_frame(sid, None, "cancelled"))
    return "cancelled"


@transaction.atomic
def transfer_chat(
    *,
    operator_id: int,
    session_id: UUID | str,
    to_operator_id: int,
    available_ids: Iterable[int],
) -> OperatorRef:
    """Hand a chat to another operator who is online and has room.

    Preconditions: the caller holds the chat; the target is another active
    operator, available now (`available_ids`, read from presence by the
    caller) and under capacity. Locks: target operator row, then session.
    """
    if to_operator_id == operator_id:
        raise ClientError("invalid", _("You already hold this chat."), session_id=str(session_id))
    target = _operator(to_operator_id, lock=True)
    if (
        target is None
        or to_operator_id not in set(available_ids)
        or not (target.is_staff and target.has_perm(PERMISSION))
    ):
        raise ClientError(
            "invalid",
            _("This operator is not online and cannot take the chat."),
            session_id=str(session_id),
        )
    session = _locked_session(session_id)
    sid = str(session.public_id)
    request = SupportRequest.objects.filter(
        session=session, status=SupportRequest.Status.ASSIGNED
    ).first()
    if request is None or request.operator_id != operator_id:
        raise ClientError(
            "forbidden", _("Only the operator who holds this chat can transfer it."), session_id=sid
        )
    _check_capacity(target, session_id=sid, own=False)
    SupportRequest.objects.filter(pk=request.pk).update(operator=target)
    source = _operator(operator_id)
    source_name = display_name(source) if source else ""
    ref = operator_ref(target)
    publish_on_commit(
        operator_group(operator_id),
        released_event(sid, by="operator", reason="transferred", to=ref),
    )
    publish_on_commit(operator_group(to_operator_id), assigned_event(sid, source_name))
    notice = _store_notice(session, joined_notice(ref["name"], transferred=True))
    publish_on_commit(
        session_group(sid), support_joined_frame(ref["name"], transferred=True, notice=notice)
    )
    return ref


# --- The sweep: abandoned requests, chats of operators who are gone --------------------


@dataclass
class SweepResult:
    abandoned: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)


def _abandon(request_pk: int, now: datetime) -> str | None:
    """Precondition: still waiting (checked by the conditional update under the session lock)."""
    with transaction.atomic():
        request = SupportRequest.objects.filter(pk=request_pk).only("session_id").first()
        if request is None:
            return None
        session = ChatSession.objects.select_for_update().get(pk=request.session_id)
        updated = SupportRequest.objects.filter(
            pk=request_pk, status=SupportRequest.Status.WAITING
        ).update(
            status=SupportRequest.Status.ABANDONED,
            closed_at=now,
            closed_by=SupportRequest.ClosedBy.SYSTEM,
        )
        if not updated:
            return None
        session.status = ChatSession.Status.AI
        session.save(update_fields=["status"])
        sid = str(session.public_id)
        publish_on_commit(session_group(sid), support_unavailable_frame("timeout"))
        publish_on_commit(OPERATORS_GROUP, support_request_taken_frame(sid, None, "abandoned"))
        return sid


def _requeue(request_pk: int, operator_id: int | None, now: datetime) -> str | None:
    """Back to the queue, first in line. Precondition: still held by `operator_id`."""
    with transaction.atomic():
        request = SupportRequest.objects.filter(pk=request_pk).first()
        if request is None:
            return None
        session = ChatSession.objects.select_for_update().get(pk=request.session_id)
        first_in_line = (
            SupportRequest.objects.filter(status=SupportRequest.Status.WAITING)
            .order_by("queued_at")
            .values_list("queued_at", flat=True)
            .first()
        )
        queued_at = request.queued_at
        if first_in_line is not None and first_in_line <= queued_at:
            queued_at = first_in_line - timedelta(milliseconds=1)
        updated = SupportRequest.objects.filter(
            pk=request_pk, status=SupportRequest.Status.ASSIGNED, operator_id=operator_id
        ).update(
            status=SupportRequest.Status.WAITING,
            operator=None,
            assigned_at=None,
            queued_at=queued_at,
            requeue_count=F("requeue_count") + 1,
            requeued_at=now,
        )
        if not updated:
            return None
        session.status = ChatSession.Status.PENDING
        session.save(update_fields=["status"])
        sid = str(session.public_id)
        request.refresh_from_db()
        request.session = session
        if operator_id is not None:
            publish_on_commit(
                operator_group(operator_id), released_event(sid, by="system", reason="requeued")
            )
        publish_on_commit(
            OPERATORS_GROUP, new_support_request_frame(request_data(request, position_of(request)))
        )
        return sid


def _unanswered_since(request: SupportRequest) -> datetime | None:
    """Since when the visitor waits for this operator's answer; None if they do not.

    No operator message since the chat was taken: since it was taken.
    Otherwise: the first visitor message after the last operator message.
    """
    assert request.assigned_at is not None
    last_reply = (
        ChatMessage.objects.filter(
            session_id=request.session_id,
            author=ChatMessage.Author.OPERATOR,
            created_at__gte=request.assigned_at,
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if last_reply is None:
        return request.assigned_at
    return (
        ChatMessage.objects.filter(
            session_id=request.session_id, author=ChatMessage.Author.VISITOR, id__gt=last_reply
        )
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )


WaitingRow = tuple[int, int, datetime, datetime | None]  # pk, session pk, requested, requeued


def waiting_requests() -> list[WaitingRow]:
    return list(
        SupportRequest.objects.filter(status=SupportRequest.Status.WAITING).values_list(
            "pk", "session_id", "requested_at", "requeued_at"
        )
    )


def sweep_queue(
    *,
    now: datetime,
    waiting: list[WaitingRow],
    visitors_gone: set[int],
    online_operator_ids: frozenset[int],
    operator_last_seen: dict[int, float],
) -> SweepResult:
    """One pass over open requests; each change is its own short transaction.

    - `waiting` (read by `waiting_requests`), visitor gone for
      SUPPORT_VISITOR_GONE_SECONDS (`visitors_gone`, from presence) or waiting
      for SUPPORT_MAX_WAIT_SECONDS: abandoned;
    - held by an operator with no live socket for SUPPORT_OPERATOR_GRACE_SECONDS,
      or who left the visitor unanswered for SUPPORT_UNANSWERED_SECONDS:
      back to the queue, first in line.
    """
    result = SweepResult()
    longest_wait = now - timedelta(seconds=settings.SUPPORT_MAX_WAIT_SECONDS)
    for pk, session_pk, requested_at, requeued_at in waiting:
        if session_pk in visitors_gone or (requeued_at or requested_at) <= longest_wait:
            sid = _abandon(pk, now)
            if sid:
                result.abandoned.append(sid)

    grace_ends = now.timestamp() - settings.SUPPORT_OPERATOR_GRACE_SECONDS
    unanswered_limit = settings.SUPPORT_UNANSWERED_SECONDS
    held = SupportRequest.objects.filter(status=SupportRequest.Status.ASSIGNED)
    for request in held:
        assert request.assigned_at is not None
        operator_id = request.operator_id
        if operator_id is None:
            gone = True
        elif operator_id not in online_operator_ids:
            seen = max(operator_last_seen.get(operator_id, 0.0), request.assigned_at.timestamp())
            gone = seen <= grace_ends
        else:
            gone = False
        if not gone and unanswered_limit:
            since = _unanswered_since(request)
            gone = since is not None and since <= now - timedelta(seconds=unanswered_limit)
        if gone:
            sid = _requeue(request.pk, operator_id, now)
            if sid:
                logger.info("chat %s back in the queue (operator %s)", sid, operator_id)
                result.requeued.append(sid)
    return result


# --- Offline tickets ---------------------------------------------------------------------


@transaction.atomic
def create_offline_ticket(*, fields: TicketFields, session_pk: int | None = None) -> OfflineTicket:
    """Keep a question left while no operator could answer; operators see it at once."""
    ticket = OfflineTicket.objects.create(
        session_id=session_pk,
        name=fields.name,
        phone=fields.phone,
        email=fields.email,
        question=fields.question,
    )
    ticket = OfflineTicket.objects.select_related("session", "handled_by").get(pk=ticket.pk)
    publish_on_commit(
        OPERATORS_GROUP, offline_ticket_frame("new_offline_ticket", ticket_data(ticket))
    )
    return ticket


@transaction.atomic
def set_ticket_status(*, ticket_id: int, status: str, operator_id: int) -> OfflineTicket:
    if status not in OfflineTicket.Status.values:
        raise ClientError("invalid", _("Unknown ticket status."))
    updated = OfflineTicket.objects.filter(pk=ticket_id).update(
        status=status, handled_by_id=operator_id
    )
    if not updated:
        raise ClientError("not_found", _("There is no such ticket."))
    return ticket_changed(ticket_id)


def ticket_changed(ticket_id: int) -> OfflineTicket:
    """Tell every dashboard, on commit, how the ticket stands now.

    Part of the caller's transaction: `set_ticket_status`, and the admin's
    ticket form and list (support/admin.py), which edit the same fields.
    """
    ticket = OfflineTicket.objects.select_related("session", "handled_by").get(pk=ticket_id)
    publish_on_commit(
        OPERATORS_GROUP, offline_ticket_frame("offline_ticket_updated", ticket_data(ticket))
    )
    return ticket


@transaction.atomic
def delete_chats(sessions: QuerySet[ChatSession]) -> int:
    """Delete chat sessions (the admin's retention); the queue learns it on commit.

    Their support requests go with them (cascade): a waiting one leaves
    every dashboard's queue (`support_request_taken`, reason `cancelled`) and
    the positions behind it move up (`announce_queue` after the commit); the
    operator holding one is released from it. Returns the sessions deleted.
    """
    open_requests = list(
        SupportRequest.objects.filter(session__in=sessions, status__in=OPEN_STATUSES).values_list(
            "session__public_id", "status", "operator_id"
        )
    )
    deleted = sessions.count()
    sessions.delete()
    for public_id, status, operator_id in open_requests:
        sid = str(public_id)
        if status == SupportRequest.Status.ASSIGNED and operator_id is not None:
            publish_on_commit(
                operator_group(operator_id), released_event(sid, by="system", reason="closed")
            )
        else:
            publish_on_commit(OPERATORS_GROUP, support_request_taken_frame(sid, None, "cancelled"))
    if open_requests:
        transaction.on_commit(announce_queue_now)
    return deleted


def announce_queue_now() -> None:
    """`announce_queue` from sync code (the admin, commands); logged, never raised."""
    try:
        async_to_sync(announce_queue)()
    except Exception:
        logger.warning("could not announce the queue", exc_info=True)


def recent_tickets(limit: int = 50) -> list[dict[str, Any]]:
    tickets = OfflineTicket.objects.select_related("session", "handled_by").order_by("-created_at")[
        :limit
    ]
    return [ticket_data(t) for t in tickets]


# --- Operators as others see them ----------------------------------------------------------


def operator_directory(user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Name, capacity and chats held of these operators (active staff only)."""
    users = (
        get_user_model()
        .objects.filter(pk__in=list(user_ids), is_active=True, is_staff=True)
        .select_related("operator_profile")
        .annotate(
            holding=Count(
                "support_requests",
                filter=Q(support_requests__status=SupportRequest.Status.ASSIGNED),
            )
        )
    )
    return {
        u.pk: {
            "id": u.pk,
            "name": display_name(u),
            "chats": u.holding,
            "capacity": capacity_of(u),
        }
        for u in users
    }


def support_line(session_pk: int) -> tuple[Literal["operator", "pending", "none"], int]:
    """Where the chat stands on the operator line, read only (the AI words a handoff by it).

    ("operator", 0) with an operator, ("pending", position) queued, else
    ("none", the position a request made now would get).
    """
    current = (
        SupportRequest.objects.filter(session_id=session_pk, status__in=OPEN_STATUSES)
        .only("id", "status", "queued_at")
        .first()
    )
    if current is not None and current.status == SupportRequest.Status.ASSIGNED:
        return "operator", 0
    if current is not None:
        return "pending", position_of(current)
    waiting = SupportRequest.objects.filter(status=SupportRequest.Status.WAITING).count()
    return "none", waiting + 1


# --- Async orchestration: presence first, then one DB unit, then announcements -------------


async def unavailable_now() -> UnavailableReason | None:
    """Why no operator could take a chat now (outside hours, nobody online), or None."""
    if not within_working_hours():
        return "outside_hours"
    if not (await presence.snapshot()).available_ids:
        return "no_operators"
    return None


async def do_request_support(*, session_pk: int, reason: str) -> Outcome:
    """The visitor (or the AI's handoff intent) asks for a human.

    Queued: the visitor gets `support_pending` (position, estimate), every
    online operator `new_support_request`. Nobody available or outside
    working hours: `support_unavailable` (the visitor can leave a ticket).
    Already queued or with an operator: the visitor is told so again.
    """
    unavailable = await unavailable_now()
    outcome = await run_action(
        request_support, session_pk=session_pk, reason=reason, unavailable=unavailable
    )
    group = session_group(outcome.session_id)
    if outcome.kind == "unavailable":
        assert unavailable is not None
        frame = support_unavailable_frame(unavailable, working_hours_label())
        await send_events([(group, frame)])
        return outcome.kind
    if outcome.kind == "operator":
        await send_events([(group, support_joined_frame(outcome.operator_name))])
        return outcome.kind
    if outcome.kind == "pending":
        await forget_told(outcome.session_id)
    await announce_safely()
    return outcome.kind


async def sweep(now: datetime | None = None) -> SweepResult:
    """Abandon, requeue, and refresh every waiting visitor's position and estimate.

    Run every few seconds by `manage.py support_sweeper`, and opportunistically
    by operator sockets (`maybe_sweep`). Idempotent: every change is a
    conditional update, so concurrent sweeps in several processes are safe.
    """
    now = now or timezone.now()
    present = await presence.snapshot()
    gone = await presence.visitors_gone_since(
        now.timestamp() - settings.SUPPORT_VISITOR_GONE_SECONDS
    )
    waiting = await run_action(waiting_requests)
    # Visitors whose server process died with their socket open left no trace.
    gone |= await presence.visitors_on_dead_processes(row[1] for row in waiting)
    result = await run_action(
        sweep_queue,
        now=now,
        waiting=waiting,
        visitors_gone=gone,
        online_operator_ids=present.online_ids,
        operator_last_seen=present.last_seen(),
    )
    await mark_requeued(result.requeued)
    await announce_queue()
    return result


SWEEP_GATE_KEY = f"{presence.PREFIX}:sweep-gate"


async def maybe_sweep() -> None:
    """Sweep unless any process swept within SUPPORT_SWEEP_SECONDS."""
    gate_ms = int(settings.SUPPORT_SWEEP_SECONDS * 1000)
    if await get_redis().set(SWEEP_GATE_KEY, "1", nx=True, px=gate_ms):
        await sweep()


async def operators_frame_now() -> dict[str, Any]:
    """`operators`: who is connected now, available or away, and how busy."""
    present = await presence.snapshot()
    directory = await run_db(lambda: operator_directory(present.online_ids))
    listed = []
    for uid in sorted(directory, key=lambda u: directory[u]["name"]):
        state = present.operators[uid]
        listed.append({**directory[uid], "status": "away" if state.away else "online"})
    return operators_frame(listed)
