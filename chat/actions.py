"""The chat's state changes. Consumers, views, admin and commands call these.

Each sync function is one unit of DB work (run it through
`chat.publish.run_action` from async code), validates what it needs,
writes, and publishes its events on commit. None of them does network I/O
besides the DB.

Each flow a socket starts is one `do_*` coroutine here (and in chat/booking.py,
chat/ai_reply.py): its checks and presence first, then one unit of DB work,
then its announcements; it returns what the caller sends back. The consumer
only parses, authorises and delegates (the table: docs/support.md, "The
action layer").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from ai.intent import wants_human
from ai.types import AIAnswer, AIRequest, HistoryItem, TourFacts
from chat import guards
from chat.budget import fit_first, fit_last
from chat.errors import ClientError
from chat.events import (
    MessageData,
    ai_response_frame,
    message_data,
    rated_frame,
    registered_frame,
    session_group,
    visitor_message_frame,
    visitor_typing_frame,
)
from chat.hooks import Frame, instrumentation, support_line
from chat.message_rows import (
    AIContext,
    ContextMessage,
    StoredVisitorMessage,
    ai_answer_batch_row,
    ai_answer_statement,
    ai_context_result,
    ai_context_statement,
    is_answered_by_ai,
    lock_session,
    message_by_client_id,
    message_by_client_id_async,
    operator_line_cutoff_and_stamp,
    recent_conversation,
    stored_message,
    visitor_message_batch_row,
    visitor_message_result,
    visitor_message_statement,
)
from chat.models import ChatMessage, ChatSession, Rating
from chat.publish import (
    Outgoing,
    publish_on_commit,
    publish_soon,
    run_action,
    run_action_collected,
    send_events,
)
from chat.tokens import hash_token, looks_like_token, new_token
from chat.typing_gate import TypingGate
from tatartours import async_db, group_commit
from tatartours.lean_rows import insert, update_fields
from tours.models import Tour

logger = logging.getLogger(__name__)

# Statuses in which the AI answers the visitor.
AI_STATUSES = (ChatSession.Status.AI, ChatSession.Status.CLOSED)


@dataclass(frozen=True)
class Registration:
    session: ChatSession
    token: str
    resumed: bool


@dataclass(frozen=True)
class Resync:
    """What a resuming socket is told, read after it joined the chat's group."""

    status: str
    messages: list[MessageData]
    needs_ai: bool  # a visitor message is still waiting for its AI answer


@dataclass(frozen=True)
class PostedMessage:
    message: ChatMessage
    created: bool  # False: a retry of a message already stored
    status: str
    needs_ai: bool
    # What the AI needs to answer, read in the same DB hop when needs_ai.
    ai_request: AIRequest | None = None


def _published_tour(slug: str | None) -> Tour | None:
    if not slug:
        return None
    return Tour.objects.published().filter(slug=slug).first()


def _token_expiry() -> Any:
    return timezone.now() + timedelta(days=settings.CHAT_TOKEN_TTL_DAYS)


def find_session_by_token(token: str | None) -> ChatSession | None:
    """The live session a token belongs to; None for a missing, forged or expired token."""
    if not token or not looks_like_token(token):
        return None
    return (
        ChatSession.objects.select_related("tour")
        .filter(token_hash=hash_token(token), token_expires_at__gt=timezone.now())
        .first()
    )


def history(session: ChatSession, after: int | None) -> list[MessageData]:
    """Messages the client lacks: after `after`, else the latest ones."""
    messages = ChatMessage.objects.filter(session=session).select_related(
        "operator__operator_profile"
    )
    if after is not None:
        rows = list(messages.filter(id__gt=after).order_by("id")[:1000])
    else:
        rows = list(messages.order_by("-id")[: settings.CHAT_HISTORY_LIMIT])[::-1]
    return [message_data(m) for m in rows]


def _operator_line_cutoff(session: ChatSession) -> int:
    """Id of the newest visitor message written to the operator line, 0 if none.

    Messages written while the chat was queued or with an operator, in a
    support conversation that has ended, were addressed to a person: when the
    AI answers again after the close, it answers only what came after them.
    """
    ended = (
        session.support_requests.filter(closed_at__isnull=False)
        .order_by("-closed_at")
        .values("closed_at")[:1]
    )
    found = ChatMessage.objects.filter(
        session=session, author=ChatMessage.Author.VISITOR, created_at__lte=Subquery(ended)
    ).aggregate(last=Max("id"))
    return int(found["last"] or 0)


def _unanswered_visitor_message(session: ChatSession) -> int | None:
    """Id of the newest visitor message nobody has answered yet, if any.

    Answered: an AI answer replied to it (or to a later one), or an operator
    or system message came after it, or it was written to the operator line
    (`_operator_line_cutoff`). Comparing ids with the last message is not
    enough: a message sent while an answer was being generated has a smaller
    id than that answer, yet still waits for its own.
    """
    Author = ChatMessage.Author
    found = ChatMessage.objects.filter(session=session).aggregate(
        newest=Max("id", filter=Q(author=Author.VISITOR)),
        answered=Max("reply_to_id", filter=Q(author=Author.AI)),
        handled=Max("id", filter=Q(author__in=[Author.OPERATOR, Author.SYSTEM])),
    )
    newest = found["newest"]
    if newest is None:
        return None
    handled = max(found["answered"] or 0, found["handled"] or 0)
    if newest <= handled or newest <= _operator_line_cutoff(session):
        return None
    return int(newest)


def _awaits_ai_answer(session: ChatSession) -> bool:
    if session.status not in AI_STATUSES:
        return False
    return _unanswered_visitor_message(session) is not None


def _conversation_order(message: ContextMessage) -> tuple[int, int]:
    """AI answers right after the message they reply to, before later visitor messages."""
    if message.author == ChatMessage.Author.AI and message.reply_to_id:
        return (message.reply_to_id, message.id)
    return (message.id, 0)


@transaction.atomic
def register_visitor(
    *,
    token: str | None,
    tour_slug: str | None,
    user_id: int | None,
    client_ip: str | None,
    user_agent: str = "",
) -> Registration:
    """Resume the session of `token`, or start a new one.

    A token of a session linked to another logged-in user is treated as
    forged: one visitor can never read another's chat. The history is not
    read here: a resuming socket joins the chat's group first, then calls
    `resync`, so no message committed in between is missed.
    """
    session = find_session_by_token(token)
    if session is not None and session.user_id and session.user_id != user_id:
        session = None
    tour = _published_tour(tour_slug)
    now = timezone.now()

    if session is None:
        token = new_token()
        session = ChatSession.objects.create(
            token_hash=hash_token(token),
            token_expires_at=_token_expiry(),
            user_id=user_id,
            tour=tour,
            client_ip=client_ip,
            user_agent=user_agent[:300],
        )
        return Registration(session, token, resumed=False)

    assert token is not None
    session.token_expires_at = _token_expiry()
    session.last_activity_at = now
    update = ["token_expires_at", "last_activity_at"]
    if user_id and not session.user_id:
        # An anonymous visitor who logged in keeps the conversation.
        session.user_id = user_id
        update.append("user")
    if tour is not None and tour.pk != session.tour_id:
        session.tour = tour
        update.append("tour")
    session.save(update_fields=update)
    return Registration(session, token, resumed=True)


async def do_register_visitor(
    *,
    token: str | None,
    tour_slug: str | None,
    user_id: int | None,
    client_ip: str | None,
    user_agent: str = "",
) -> Registration:
    """A socket's `register`: the rate limit of registrations (Redis), then `register_visitor`.

    Raises `guards.Throttled` when this IP or token registers too often; the
    caller then tells the socket why and closes it. The history is read by
    `do_resume_visitor`, once the socket joined the chat's group.
    """
    await guards.check_register(token, client_ip)
    return await run_action(
        register_visitor,
        token=token,
        tour_slug=tour_slug,
        user_id=user_id,
        client_ip=client_ip,
        user_agent=user_agent,
    )


@dataclass(frozen=True)
class Resumed:
    """What a registered socket is sent, in order, and what it owes the visitor."""

    frames: list[Frame]  # `registered`, then the queue or operator state restated
    replayed: set[int]  # ids of the messages `registered` carried
    needs_ai: bool  # a visitor message still waits for its AI answer
    # The client said it has every message up to this id (`after` of a resumed
    # session): a live copy of one of those, published late (a retried
    # publish after a Redis outage), is not sent again. 0 for a new session.
    client_has_up_to: int


async def do_resume_visitor(
    registration: Registration, *, after: int | None, socket_id: str
) -> Resumed:
    """The `registered` frame, the support line's restatement, and whether the AI owes an answer.

    Precondition: the socket `socket_id` already joined the chat's group (so
    a message committed after the history read arrives live; one committed
    in between arrives both ways, and the socket drops the live copy whose
    id is in `replayed`). The support line notes the socket (presence) and,
    for a chat waiting for or talking to an operator, says so again.
    """
    session = registration.session
    if registration.resumed:
        found = await run_action(resync, session_pk=session.pk, after=after)
        status, needs_ai = found.status, found.needs_ai
        # One frame holds at most ~40 KiB of history (chat/budget.py): the
        # oldest after `after` (the client registers again from the last
        # one), else the newest.
        fit = fit_first if after is not None else fit_last
        messages = fit(found.messages)
        more = len(messages) < len(found.messages)
    else:
        status, messages, needs_ai, more = session.status, [], False, False
    frame = registered_frame(session, registration.token, status, messages)
    if more:
        frame["has_more"] = True  # Extension (docs/protocol.md, part 2).
    restated = await support_line().visitor_registered(
        session_pk=session.pk, status=status, socket_id=socket_id
    )
    client_has_up_to = (after or 0) if registration.resumed else 0
    return Resumed([frame, *restated], {m["id"] for m in messages}, needs_ai, client_has_up_to)


def resync(*, session_pk: int, after: int | None) -> Resync:
    """The status, the messages after `after` and whether the AI still owes an answer.

    Precondition: the caller's socket is already in the chat's group. A
    message committed after this read arrives live; one committed between
    the join and this read arrives both ways, and the socket drops the live
    copy by id (chat.consumers).
    """
    session = ChatSession.objects.get(pk=session_pk)
    return Resync(
        status=session.status,
        messages=history(session, after),
        needs_ai=_awaits_ai_answer(session),
    )


@transaction.atomic
def post_visitor_message(
    *, session_pk: int, client_id: str, text: str, tour_slug: str | None = None
) -> PostedMessage:
    """Store a visitor message once per `client_id` and announce it (sync callers).

    The same statement as `do_post_visitor_message` (chat/message_rows.py),
    on Django's connection inside this transaction, announced on commit; a
    retry (same client_id, same text) returns the stored message with
    created=False and publishes nothing; the same client_id with another
    text is refused. The AI context is read here too when the AI must answer.
    """
    sql, params = visitor_message_statement(
        session_pk=session_pk,
        client_id=client_id,
        text=text,
        tour_slug=tour_slug,
        now=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    result = visitor_message_result(row, session_pk=session_pk, client_id=client_id, text=text)
    if not result.created and result.message is None:
        result = replace(result, message=message_by_client_id(session_pk, client_id))
    message = _accepted_visitor_message(result, client_id=client_id, text=text)
    if not result.created:
        request = prepare_ai_reply(session_pk) if result.status in AI_STATUSES else None
        return PostedMessage(
            message,
            created=False,
            status=result.status,
            needs_ai=request is not None,
            ai_request=request,
        )
    instrumentation().message_stored(message)
    publish_on_commit(*_visitor_message_event(message, result.session_public_id))
    needs_ai = result.status == ChatSession.Status.AI
    request = None
    if needs_ai:
        # The message just stored is the newest visitor message, and nothing
        # can have answered it yet: it is the one pending.
        session = ChatSession.objects.select_related("tour").get(pk=session_pk)
        request = _prepare(session, message.id)
    return PostedMessage(
        message, created=True, status=result.status, needs_ai=needs_ai, ai_request=request
    )


def _accepted_visitor_message(
    result: StoredVisitorMessage, *, client_id: str, text: str
) -> ChatMessage:
    """The stored message, or `invalid` if the client_id was used for another one."""
    message = result.message
    if message is None:
        # Neither stored nor found: only a message deleted in between (a purge).
        raise ClientError("invalid", _("This client_id was already used."), client_id=client_id)
    if not result.created and (
        message.author != ChatMessage.Author.VISITOR or message.text != text
    ):
        raise ClientError(
            "invalid",
            _("This client_id was already used for another message."),
            client_id=client_id,
        )
    return message


def _visitor_message_event(message: ChatMessage, public_id: UUID) -> tuple[str, dict[str, Any]]:
    # The frame reads the chat's public id from the message's session: only that is set.
    message.session = ChatSession(pk=message.session_id, public_id=public_id)
    return session_group(public_id), visitor_message_frame(message)


@dataclass(frozen=True)
class VisitorMessage(PostedMessage):
    # The visitor asked for a person ("позовите оператора") in a message the AI
    # would answer: the caller asks the support line first, and lets the AI
    # answer only if nobody can take the chat.
    wants_person: bool = False


async def do_post_visitor_message(
    *,
    session_pk: int,
    session_public_id: str,
    client_ip: str | None,
    client_id: str,
    text: str,
    tour_slug: str | None,
    origin: str | None = None,
) -> VisitorMessage:
    """The visitor's message, on the event loop: checks, one statement, announcement.

    1. the guards (content, rate limits: Redis); a throttled resend of a
       message stored long ago is acknowledged, not refused;
    2. one autocommit statement (chat/message_rows.py) that locks the
       session row, stores the message once per client_id, returns a closed
       chat to the AI and follows the tour page;
    3. `visitor_message` to the chat group (not to `origin`, the sending
       socket, which gets the caller's `message_ack`), published in the
       background: the ack does not wait for Redis (chat.publish.publish_soon).
    A retry announces nothing. The AI context is not read here: the answer
    task reads it (`chat.ai_reply.answer_pending`), only when the AI answers.
    """
    sender = guards.Sender(session_public_id, client_ip)
    try:
        await guards.check_visitor_message(sender, client_id=client_id, text=text)
    except guards.Throttled:
        stored = await async_db.run(
            lambda conn: message_by_client_id_async(conn, session_pk, client_id)
        )
        if stored is None or stored.author != ChatMessage.Author.VISITOR:
            raise
    sql, params = visitor_message_statement(
        session_pk=session_pk,
        client_id=client_id,
        text=text,
        tour_slug=tour_slug,
        now=timezone.now(),
    )

    # Committed with the other messages of the moment (tatartours/group_commit.py).
    row = await group_commit.fetchone(
        sql, params, lock_order=session_public_id, batch=visitor_message_batch_row(params)
    )
    result = visitor_message_result(row, session_pk=session_pk, client_id=client_id, text=text)
    if not result.created and result.message is None:
        # Committed by a concurrent retry while this statement waited for the lock.
        earlier = await async_db.run(
            lambda conn: message_by_client_id_async(conn, session_pk, client_id)
        )
        result = replace(result, message=earlier)
    message = _accepted_visitor_message(result, client_id=client_id, text=text)
    if not result.created:
        return VisitorMessage(
            message, created=False, status=result.status, needs_ai=result.status in AI_STATUSES
        )
    instrumentation().message_committed(message)
    # Not awaited: the sender's ack (the caller's next step) waited for this
    # Redis round trip, 11 ms at the median and 65 ms at p99 of a loaded
    # ai-50x10 (docs/benchmarks.md), and so did the AI answer after it.
    publish_soon([_visitor_message_event(message, result.session_public_id)], origin=origin)
    needs_ai = result.status == ChatSession.Status.AI
    return VisitorMessage(
        message,
        created=True,
        status=result.status,
        needs_ai=needs_ai,
        wants_person=needs_ai and wants_human(text),
    )


def _tour_facts(tour: Tour | None) -> TourFacts | None:
    if tour is None or tour.status != Tour.Status.PUBLISHED:
        return None
    return TourFacts.of(tour)


def prepare_ai_reply(session_pk: int) -> AIRequest | None:
    """What the AI needs to answer the newest visitor message; None if nothing to answer."""
    session = ChatSession.objects.select_related("tour").get(pk=session_pk)
    if session.status not in AI_STATUSES:
        return None
    return _prepare(session, _unanswered_visitor_message(session))


def _prepare(session: ChatSession, pending: int | None) -> AIRequest | None:
    """The AI context for answering `pending` (None: nothing to answer)."""
    if pending is None or session.status not in AI_STATUSES:
        return None
    recent = recent_conversation(session.pk, settings.AI_CONTEXT_MESSAGES)
    cutoff, stamp = operator_line_cutoff_and_stamp(session.pk)
    return _ai_request(
        session_pk=session.pk,
        public_id=session.public_id,
        user_id=session.user_id,
        tokens_used=session.ai_tokens_used,
        tour=session.tour,
        pending=pending,
        recent=recent,
        cutoff=cutoff,
        stamp=stamp,
    )


def _ai_request(
    *,
    session_pk: int,
    public_id: UUID,
    user_id: int | None,
    tokens_used: int,
    tour: Tour | None,
    pending: int,
    recent: list[ContextMessage],
    cutoff: int,
    stamp: str,
) -> AIRequest:
    recent = sorted(recent, key=_conversation_order)
    Author = ChatMessage.Author
    # Visitor messages after this id wait for the AI; the earlier ones were
    # answered, or written to the operator line.
    answered = [m.id for m in recent if m.author == Author.OPERATOR]
    answered += [m.reply_to_id for m in recent if m.author == Author.AI and m.reply_to_id]
    boundary = max([cutoff, *answered])
    items = [
        HistoryItem(
            role="user" if m.author == Author.VISITOR else "assistant",
            text=m.text,
            author=m.author,
            pending=m.author == Author.VISITOR and m.id > boundary,
            to_operator=m.author == Author.VISITOR and m.id <= cutoff,
        )
        for m in recent
    ]
    return AIRequest(
        session_pk=session_pk,
        session_public_id=public_id,
        reply_to=pending,
        history=items,
        tour=_tour_facts(tour),
        user_id=user_id,
        tokens_used=tokens_used,
        knowledge_stamp=stamp,
    )


def _pending_of(context: AIContext) -> int | None:
    """`_unanswered_visitor_message` from what `ai_context_statement` read."""
    if context.status not in AI_STATUSES or context.newest_visitor is None:
        return None
    handled = max(context.answered or 0, context.handled or 0)
    newest = context.newest_visitor
    if newest <= handled or newest <= context.cutoff:
        return None
    return int(newest)


async def do_prepare_ai_reply(session_pk: int) -> AIRequest | None:
    """`prepare_ai_reply` on the event loop's pool (tatartours.async_db), not the DB thread.

    One statement for the session, its tour page, where the conversation
    stands, the knowledge base's stamp and the last messages. Reads without a
    lock, as `prepare_ai_reply`: the answer is stored under the session lock
    later (`store_ai_answer`), which re-checks.
    """

    async def read(conn: async_db.Connection) -> AIContext:
        # Not group-committed: a read has no commit to share, and in a group it
        # waits for the group in flight and then for its own group's commit.
        # ai-50x10, alternating: grouped, overhead p50 88-90 ms, ack p50 18-22,
        # but p99 153-157 / 39-44 and 7.2-7.6 ms CPU per answer; alone (kept),
        # p50 39-50 / 8-12, p99 179-193 / 53-60, 8.9-9.1 ms (docs/benchmarks.md).
        sql, params = ai_context_statement(session_pk, recent=settings.AI_CONTEXT_MESSAGES)
        cursor = await conn.execute(sql, params)
        return ai_context_result(await cursor.fetchone(), session_pk)

    context = await async_db.run(read)
    pending = _pending_of(context)
    if pending is None:
        return None
    return _ai_request(
        session_pk=session_pk,
        public_id=context.public_id,
        user_id=context.user_id,
        tokens_used=context.tokens_used,
        tour=context.tour,
        pending=pending,
        recent=context.recent,
        cutoff=context.cutoff,
        stamp=context.stamp,
    )


@transaction.atomic
def store_ai_answer(*, session_pk: int, reply_to: int, answer: AIAnswer) -> ChatMessage | None:
    """Store and announce an AI answer, unless the chat left the AI meanwhile.

    Precondition checked under the session row lock: status is ai (or
    closed), so an operator takeover, which takes the same lock, can never be
    followed by an AI message.
    """
    session, _tour_slug = lock_session(session_pk)
    if session.status not in AI_STATUSES:
        return None
    if is_answered_by_ai(session.pk, reply_to):
        return None  # Already answered (e.g. by another tab's generation).
    message = _ai_message(session.pk, reply_to, answer)
    message.session = session
    message = insert(message)
    instrumentation().message_stored(message)
    session.last_activity_at = message.created_at
    session.ai_tokens_used += (answer.prompt_tokens or 0) + (answer.completion_tokens or 0)
    session.ai_answered_to = reply_to  # the guard of `do_store_ai_answer`'s statement
    update = ["last_activity_at", "ai_tokens_used", "ai_answered_to"]
    if session.status == ChatSession.Status.CLOSED:
        session.status = ChatSession.Status.AI
        update.append("status")
    update_fields(session, update)
    publish_on_commit(session_group(session.public_id), ai_response_frame(message))
    if answer.meta.get("booking_proposals"):
        # The answer proposed a booking: a card for the visitor (chat/booking.py).
        from chat.booking import propose_after_answer

        propose_after_answer(session, message, answer.meta["booking_proposals"])
    return message


async def do_store_ai_answer(
    *, session_pk: int, session_public_id: str, reply_to: int, answer: AIAnswer
) -> tuple[ChatMessage | None, list[Outgoing]]:
    """`store_ai_answer` on the event loop's pool; the events are returned, not sent.

    The same rules in one statement (`ai_answer_statement`), committed with
    the other statements of the moment (answers of other chats finished at
    the same moment go as one statement: `ai_answers_batch`): it claims the session row (an
    operator takeover updates the same row, so it is ordered before or after
    this answer, never beside it), checks the status and "already
    answered?" on the row as it is after any lock wait, inserts the answer
    and touches the session. An answer proposing a booking takes the sync
    action: its card is chat.booking's ORM work in the same transaction.
    """
    if answer.meta.get("booking_proposals"):
        return await run_action_collected(
            store_ai_answer, session_pk=session_pk, reply_to=reply_to, answer=answer
        )
    message = _ai_message(session_pk, reply_to, answer)
    sql, params = ai_answer_statement(
        message, tokens=(answer.prompt_tokens or 0) + (answer.completion_tokens or 0)
    )
    row = await group_commit.fetchone(
        sql, params, lock_order=session_public_id, batch=ai_answer_batch_row(params)
    )
    assert row is not None  # the statement always returns its one row
    exists, pk, created_at, public_id = row
    if not exists:
        raise ChatSession.DoesNotExist(f"no chat session {session_pk}")
    if pk is None:
        return None, []
    stored = stored_message(message, pk, created_at)
    stored.session = ChatSession(pk=session_pk, public_id=public_id)
    instrumentation().message_committed(stored)
    return stored, [(session_group(stored.session.public_id), ai_response_frame(stored))]


def _ai_message(session_pk: int, reply_to: int, answer: AIAnswer) -> ChatMessage:
    """The unsaved AI answer, as `store_ai_answer` and `do_store_ai_answer` write it."""
    return ChatMessage(
        session_id=session_pk,
        author=ChatMessage.Author.AI,
        text=answer.text,
        reply_to_id=reply_to,
        ai_source=answer.source,
        ai_model=answer.model[:120],
        ai_generation_id=answer.generation_id[:120],
        ai_latency_ms=answer.latency_ms,
        ai_first_token_ms=answer.first_token_ms,
        ai_prompt_tokens=answer.prompt_tokens,
        ai_completion_tokens=answer.completion_tokens,
        ai_cost=answer.cost,
        ai_fallback_used=answer.fallback_used,
        ai_error=answer.error[:300],
        meta=answer.meta,
    )


@transaction.atomic
def rate_conversation(*, session_pk: int, score: int, comment: str = "") -> Rating:
    """Store the visitor's CSAT for the latest unrated conversation.

    An operator conversation that has closed is rated first; otherwise the
    AI-only conversation of the session, once.
    """
    if not 1 <= score <= 5:
        raise ClientError("invalid", _("The rating must be a whole number from 1 to 5."))
    session = ChatSession.objects.select_for_update().get(pk=session_pk)
    unrated = support_line().unrated_conversation(session.pk)
    if unrated is not None:
        return Rating.objects.create(
            session=session, support_request_id=unrated, score=score, comment=comment
        )
    if Rating.objects.filter(session=session, support_request__isnull=True).exists():
        raise ClientError("invalid", _("This conversation has already been rated."))
    if not ChatMessage.objects.filter(session=session, author=ChatMessage.Author.AI).exists():
        raise ClientError("invalid", _("There is no conversation to rate yet."))
    return Rating.objects.create(session=session, score=score, comment=comment)


async def do_rate_conversation(*, session_pk: int, score: int, comment: str = "") -> Frame:
    """The visitor's `rate`: the comment checked, the rating stored; returns `rated`."""
    guards.check_text(comment)
    await run_action(rate_conversation, session_pk=session_pk, score=score, comment=comment.strip())
    return rated_frame(score)


async def do_visitor_typing(*, session_public_id: str, typing: bool, gate: TypingGate) -> None:
    """The visitor's `typing`: relayed to the chat's group (the operator, other
    tabs) when `gate` (the socket's) admits it; best-effort, nothing stored."""
    if gate.admit(typing):
        frame = visitor_typing_frame(session_public_id, typing)
        await send_events([(session_group(session_public_id), frame)])
