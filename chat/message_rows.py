"""The statements every chat message runs, written once as SQL (tatartours/lean_rows.py says why).

Each function is one round trip inside the caller's transaction and returns
model instances, so the actions in chat/actions.py and support/actions.py
read like ORM code and keep their rules; only the query compiler is skipped.
A visitor message is one statement (`visitor_message_statement`): run on
the event loop's pool in autocommit by `chat.actions.do_post_visitor_message`,
or on Django's connection inside a transaction by the sync action.
Every table and column is named through the models (`lean_rows.column`,
`table`, `select_list`, `insert_select`): a renamed field fails here at once,
a changed column follows by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field
from psycopg.types.json import Jsonb

from ai.retrieval import knowledge_stamp_sql
from chat.models import ChatMessage, ChatSession
from tatartours.group_commit import Batch, BatchRow
from tatartours.lean_rows import (
    column,
    column_name,
    column_type,
    fetch_optional,
    fetch_row,
    insert_select,
    select_list,
    table,
)
from tours.models import Tour


@cache
def _session_sql(by: str) -> str:
    return (
        f"SELECT {select_list(ChatSession)}, {column(Tour, 'slug')} FROM {table(ChatSession)} "
        f"LEFT JOIN {table(Tour)} ON {column(Tour, 'id')} = {column(ChatSession, 'tour')} "
        f"WHERE {column(ChatSession, by)} = %s FOR UPDATE OF {table(ChatSession)}"
    )


def lock_session(pk: int) -> tuple[ChatSession, str | None]:
    """The session row, locked for the transaction, and the slug of its tour page (or None)."""
    found = fetch_row(ChatSession, _session_sql("id"), [pk])
    if found is None:
        raise ChatSession.DoesNotExist(f"no chat session {pk}")
    session, (tour_slug,) = found
    return session, tour_slug


def lock_session_by_public_id(public_id: UUID | str) -> ChatSession | None:
    try:
        UUID(str(public_id))
    except ValueError:
        return None
    return fetch_optional(ChatSession, _session_sql("public_id"), [str(public_id)])


@cache
def _by_client_id_sql() -> str:
    return (
        f"SELECT {select_list(ChatMessage)} FROM {table(ChatMessage)} "
        f"WHERE {column(ChatMessage, 'session')} = %s AND {column(ChatMessage, 'client_id')} = %s"
    )


def message_by_client_id(session_pk: int, client_id: str) -> ChatMessage | None:
    return fetch_optional(ChatMessage, _by_client_id_sql(), [session_pk, client_id])


CONTEXT_FIELDS = ["id", "author", "text", "reply_to_id"]


class ContextMessage(NamedTuple):
    """A message as the AI's context reads it (CONTEXT_FIELDS, in that order).

    A tuple, not a model instance: ten of them per answer, and Django's
    `Model.__init__` was 2% of the AI path's samples by itself.
    """

    id: int
    author: str
    text: str
    reply_to_id: int | None


@cache
def _recent_sql() -> str:
    columns = ", ".join(column(ChatMessage, name) for name in CONTEXT_FIELDS)
    return (
        f"SELECT {columns} FROM {table(ChatMessage)} "
        f"WHERE {column(ChatMessage, 'session')} = %s AND {column(ChatMessage, 'author')} <> %s "
        f"ORDER BY {column(ChatMessage, 'id')} DESC LIMIT %s"
    )


def recent_conversation(session_pk: int, limit: int) -> list[ContextMessage]:
    """The newest `limit` non-system messages, newest first."""
    with connection.cursor() as cursor:
        cursor.execute(_recent_sql(), [session_pk, ChatMessage.Author.SYSTEM, limit])
        return recent_conversation_result(cursor.fetchall())


@cache
def _answered_sql() -> str:
    reply_to = column(ChatMessage, "reply_to")
    return (
        f"SELECT 1 FROM {table(ChatMessage)} WHERE {column(ChatMessage, 'session')} = %s "
        f"AND {column(ChatMessage, 'id')} > %s AND {column(ChatMessage, 'author')} = %s "
        f"AND {reply_to} >= %s LIMIT 1"
    )


def is_answered_by_ai(session_pk: int, reply_to: int) -> bool:
    """An AI answer to `reply_to` or a later message exists.

    `id > reply_to` is implied (an answer comes after its question) and lets
    Postgres range-scan the (session, id) index instead of every AI message.
    """
    with connection.cursor() as cursor:
        cursor.execute(_answered_sql(), [session_pk, reply_to, ChatMessage.Author.AI, reply_to])
        return cursor.fetchone() is not None


def _cutoff_expression() -> str:
    """The operator-line cutoff as a scalar subquery (named parameters: session, visitor)."""
    # The support app's requests, named through the reverse relation it declares
    # (chat never imports support).
    requests = ChatSession._meta.get_field("support_requests").related_model
    assert isinstance(requests, type)  # a model class once the app registry is ready
    closed = column(requests, "closed_at")
    ended = (
        f"SELECT {closed} FROM {table(requests)} WHERE {column(requests, 'session')} = "
        f"%(session)s AND {closed} IS NOT NULL ORDER BY {closed} DESC LIMIT 1"
    )
    return (
        f"(SELECT max({column(ChatMessage, 'id')}) FROM {table(ChatMessage)} "
        f"WHERE {column(ChatMessage, 'session')} = %(session)s "
        f"AND {column(ChatMessage, 'author')} = %(visitor)s "
        f"AND {column(ChatMessage, 'created_at')} <= ({ended}))"
    )


@cache
def _line_cutoff_sql() -> str:
    return f"SELECT {_cutoff_expression()}, {knowledge_stamp_sql()}"


def operator_line_cutoff_and_stamp(session_pk: int) -> tuple[int, str]:
    """(id of the newest visitor message written to the operator line of an ended support
    conversation, 0 if none; the AI knowledge base's stamp, `ai.retrieval.knowledge_stamp`).

    One statement for what an AI answer needs besides the conversation: the
    stamp rides along, so a process that holds the current knowledge base
    answers without another DB hop.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _line_cutoff_sql(), {"session": session_pk, "visitor": ChatMessage.Author.VISITOR}
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0] or 0), str(row[1])


# --- What an AI answer needs, on the event loop (tatartours.async_db) ----------------------

# The tour page's fields an answer states (ai.types.TourFacts), and what decides them.
AI_TOUR_FIELDS = (
    "slug",
    "title",
    "place",
    "price_per_person",
    "start_date",
    "end_date",
    "duration_hours",
    "max_participants",
    "places_booked",
    "short_description",
    "status",
)


@dataclass(frozen=True)
class AIContext:
    """The session's side of an AI answer, read in one statement."""

    status: str
    public_id: UUID
    user_id: int | None
    tokens_used: int
    tour: Tour | None  # the page's tour, unsaved instance with AI_TOUR_FIELDS only
    newest_visitor: int | None  # newest visitor message
    answered: int | None  # newest message an AI answer replied to
    handled: int | None  # newest operator or system message
    cutoff: int  # `operator_line_cutoff_and_stamp`
    stamp: str  # the knowledge base's (ai.retrieval.knowledge_stamp)
    recent: list[ContextMessage]  # `recent_conversation`'s messages, newest first


@cache
def _ai_context_sql() -> str:
    S, M, T = ChatSession, ChatMessage, Tour
    author, message_id = column(M, "author"), column(M, "id")
    marks = (
        f"SELECT max({message_id}) FILTER (WHERE {author} = %(visitor)s) AS newest, "
        f"max({column(M, 'reply_to')}) FILTER (WHERE {author} = %(ai)s) AS answered, "
        f"max({message_id}) FILTER (WHERE {author} IN (%(operator)s, %(system)s)) AS handled "
        f"FROM {table(M)} WHERE {column(M, 'session')} = %(session)s"
    )
    tour = ", ".join(column(T, name) for name in AI_TOUR_FIELDS)
    # The conversation the prompt quotes, in the same statement: `recent_conversation`'s
    # rows as one JSON array (one round trip and one statement fewer per answer).
    picked = ", ".join(f"{column(M, name)} AS c{n}" for n, name in enumerate(CONTEXT_FIELDS))
    row = ", ".join(f"r.c{n}" for n in range(len(CONTEXT_FIELDS)))
    recent = (
        f"(SELECT coalesce(json_agg(json_build_array({row}) ORDER BY r.c0 DESC), '[]') FROM ("
        f"SELECT {picked} FROM {table(M)} WHERE {column(M, 'session')} = %(session)s "
        f"AND {author} <> %(system)s ORDER BY {message_id} DESC LIMIT %(recent)s) AS r)"
    )
    return (
        f"SELECT {column(S, 'status')}, {column(S, 'public_id')}, {column(S, 'user')}, "
        f"{column(S, 'ai_tokens_used')}, {column(S, 'tour')}, {tour}, "
        f"marks.newest, marks.answered, marks.handled, {_cutoff_expression()}, "
        f"{knowledge_stamp_sql()}, {recent} "
        f"FROM {table(S)} LEFT JOIN {table(T)} ON {column(T, 'id')} = {column(S, 'tour')} "
        f"CROSS JOIN ({marks}) AS marks WHERE {column(S, 'id')} = %(session)s"
    )


def ai_context_statement(session_pk: int, *, recent: int) -> tuple[str, dict[str, Any]]:
    """One statement: the session, its tour page, where the conversation stands, the
    stamp, and its newest `recent` messages (`recent_conversation`)."""
    Author = ChatMessage.Author
    return _ai_context_sql(), {
        "session": session_pk,
        "recent": recent,
        "visitor": Author.VISITOR,
        "ai": Author.AI,
        "operator": Author.OPERATOR,
        "system": Author.SYSTEM,
    }


def ai_context_result(row: Sequence[Any] | None, session_pk: int) -> AIContext:
    """Read `ai_context_statement`'s row (None: no such session)."""
    if row is None:
        raise ChatSession.DoesNotExist(f"no chat session {session_pk}")
    status, public_id, user_id, tokens_used, tour_id = row[:5]
    width = len(AI_TOUR_FIELDS)
    tour_values = row[5 : 5 + width]
    newest, answered, handled, cutoff, stamp, recent = row[5 + width :]
    tour = (
        Tour(pk=tour_id, **dict(zip(AI_TOUR_FIELDS, tour_values, strict=True)))
        if tour_id is not None and tour_values[0] is not None
        else None
    )
    return AIContext(
        status=status,
        public_id=public_id if isinstance(public_id, UUID) else UUID(str(public_id)),
        user_id=user_id,
        tokens_used=tokens_used,
        tour=tour,
        newest_visitor=newest,
        answered=answered,
        handled=handled,
        cutoff=int(cutoff or 0),
        stamp=str(stamp),
        recent=recent_conversation_result(recent),  # psycopg loads json as lists
    )


def recent_conversation_result(rows: Sequence[Sequence[Any]]) -> list[ContextMessage]:
    return [ContextMessage(*row) for row in rows]


# --- An AI answer, stored on the event loop (tatartours.async_db) ------------------------------

# The fields of an AI answer the action sets; the rest get their defaults.
AI_ANSWER_GIVEN = (
    "session",
    "author",
    "text",
    "reply_to",
    "ai_source",
    "ai_model",
    "ai_generation_id",
    "ai_latency_ms",
    "ai_first_token_ms",
    "ai_prompt_tokens",
    "ai_completion_tokens",
    "ai_cost",
    "ai_fallback_used",
    "ai_error",
    "meta",
    "created_at",  # auto_now_add: set by pre_save, now, as a save() would
)


def _may_store_answer(session: str, reply_to: str, author: str) -> str:
    """The condition on the session row under which an AI answer to `reply_to` is stored
    (SQL expressions for the values): the chat is with the AI (or closed), and no AI
    answer replied to `reply_to` or a later message, by the column
    (`ai_answered_to`, re-checked after a lock wait) or by the messages (answers stored
    without the column). One text for `_ai_answer_sql` and `_ai_answers_sql`."""
    m, s = ChatMessage, ChatSession
    answered_to = column(s, "ai_answered_to")
    return (
        f"{column(s, 'status')} IN (%(ai)s, %(closed)s) "
        f"AND ({answered_to} IS NULL OR {answered_to} < {reply_to}) AND NOT EXISTS ("
        f"SELECT 1 FROM {table(m)} WHERE {column(m, 'session')} = {session} "
        f"AND {column(m, 'id')} > {reply_to} AND {column(m, 'author')} = {author} "
        f"AND {column(m, 'reply_to')} >= {reply_to})"
    )


def _claim_assignments(reply_to: str, created_at: str, tokens: str) -> str:
    """The SET list of the UPDATE that claims the session row for an AI answer."""
    s = ChatSession
    return (
        f"{column_name(s, 'ai_answered_to')} = {reply_to}, "
        f"{column_name(s, 'last_activity_at')} = {created_at}, "
        f"{column_name(s, 'ai_tokens_used')} = {column(s, 'ai_tokens_used')} + {tokens}, "
        # A closed operator conversation hands back to the AI.
        f"{column_name(s, 'status')} = CASE WHEN {column(s, 'status')} = %(closed)s "
        f"THEN %(ai)s ELSE {column(s, 'status')} END"
    )


@cache
def _ai_answer_sql() -> tuple[str, dict[str, Any]]:
    m, s = ChatMessage, ChatSession
    columns, values, defaults = insert_select(m, {name: f"%({name})s" for name in AI_ANSWER_GIVEN})
    sql = (
        # One statement in autocommit. The session row is claimed first: an
        # operator takeover (which updates the same row) is ordered before or
        # after this answer, never beside it. A generation that waited for the
        # row lock has its condition checked again on the row as the other left
        # it (PostgreSQL's re-check of an UPDATE's WHERE after a lock wait):
        # a takeover, or another tab's answer to the same question
        # (`ai_answered_to`), stops it. The NOT EXISTS covers answers stored
        # without the column (rows from before it, fixtures).
        f"WITH claimed AS (UPDATE {table(s)} SET "
        f"{_claim_assignments('%(reply_to)s', '%(created_at)s', '%(tokens)s')} "
        f"WHERE {column(s, 'id')} = %(session)s AND "
        f"{_may_store_answer('%(session)s', '%(reply_to)s', '%(author)s')} "
        f"RETURNING {column(s, 'public_id')} AS public_id), "
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM claimed "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at) "
        # Always one row: whether the session exists, then the answer if stored.
        f"SELECT EXISTS (SELECT 1 FROM {table(s)} WHERE {column(s, 'id')} = %(session)s), "
        f"stored.id, stored.created_at, claimed.public_id "
        f"FROM (SELECT 1) AS one LEFT JOIN stored ON TRUE LEFT JOIN claimed ON TRUE"
    )
    return sql, defaults


def ai_answer_statement(message: ChatMessage, *, tokens: int) -> tuple[str, dict[str, Any]]:
    """The statement storing the unsaved AI answer `message` and touching its session.

    Its one row: (the session exists, then the answer's id, created_at and the
    session's public id, or three NULLs). It stores nothing unless the chat is
    with the AI (or closed) and no AI answer replied to `reply_to` or a later
    message (`is_answered_by_ai`).
    """
    sql, defaults = _ai_answer_sql()
    params: dict[str, Any] = dict(defaults)  # columns no answer sets: their constant defaults
    wrapper = connections[DEFAULT_DB_ALIAS]  # looked up once, not once per field
    for name in AI_ANSWER_GIVEN:
        field = ChatMessage._meta.get_field(name)
        assert isinstance(field, Field)
        params[name] = field.get_db_prep_save(field.pre_save(message, add=True), wrapper)
    params.update(
        tokens=tokens,
        session=message.session_id,
        closed=ChatSession.Status.CLOSED,
        ai=ChatSession.Status.AI,
    )
    return sql, params


# An AI answer's given fields as one caller's part of `ai_answers_batch` (JSON keys).
def _answer_row_columns() -> str:
    """The columns of one caller's JSON row in `_ai_answers_sql`, typed as the model's."""
    fields = ", ".join(f"{name} {column_type(ChatMessage, name)}" for name in AI_ANSWER_GIVEN)
    return f"ord int, {fields}, tokens int"


@cache
def _ai_answers_sql() -> tuple[str, dict[str, Any]]:
    """`_ai_answer_sql` for several chats: the same rules, one row per caller.

    The sessions are locked in the callers' order ("ord": the group's lock
    order) by a locking read whose conditions PostgreSQL checks again on a
    row another transaction changed while this one waited (as the single
    statement's UPDATE does); each caller gets "ord" and the single
    statement's one row.
    """
    m, s = ChatMessage, ChatSession
    given = {name: f"locked.{name}" for name in AI_ANSWER_GIVEN}
    columns, values, defaults = insert_select(m, given)
    sql = (
        f"WITH input AS (SELECT * FROM jsonb_to_recordset(%(rows)s) "
        f"AS i({_answer_row_columns()})), "
        f"locked AS MATERIALIZED (SELECT {column(s, 'id')} AS id, "
        f"{column(s, 'public_id')} AS public_id, input.* FROM {table(s)} "
        f"JOIN input ON {column(s, 'id')} = input.session "
        f"WHERE {_may_store_answer('input.session', 'input.reply_to', 'input.author')} "
        f"ORDER BY input.ord FOR UPDATE OF {table(s)}), "
        f"claimed AS (UPDATE {table(s)} SET "
        f"{_claim_assignments('locked.reply_to', 'locked.created_at', 'locked.tokens')} "
        f"FROM locked "
        f"WHERE {column(s, 'id')} = locked.id RETURNING {column(s, 'id')} AS id), "
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM locked "
        f"JOIN claimed ON claimed.id = locked.id ORDER BY locked.ord "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at, "
        f"{column_name(m, 'session')} AS session_pk) "
        f"SELECT input.ord, EXISTS (SELECT 1 FROM {table(s)} "
        f"WHERE {column(s, 'id')} = input.session), stored.id, stored.created_at, "
        f"locked.public_id FROM input LEFT JOIN locked ON locked.ord = input.ord "
        f"LEFT JOIN stored ON stored.session_pk = locked.id"
    )
    return sql, defaults


@cache
def ai_answers_batch() -> Batch:
    sql, defaults = _ai_answers_sql()
    statuses = {"closed": ChatSession.Status.CLOSED, "ai": ChatSession.Status.AI}
    return Batch(sql, {**defaults, **statuses})


def ai_answer_batch_row(params: dict[str, Any]) -> BatchRow:
    """This answer's part of `ai_answers_batch`, from `ai_answer_statement`'s parameters
    (the same values, so the two cannot disagree), as JSON."""
    values = {name: _json_value(params[name]) for name in AI_ANSWER_GIVEN}
    return BatchRow(ai_answers_batch(), {**values, "tokens": params["tokens"]})


def _json_value(value: Any) -> Any:
    """A statement parameter as the JSON of a batch row (jsonb_to_recordset reads it back)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Jsonb):
        return value.obj
    return value


def stored_message(message: ChatMessage, pk: int, created_at: datetime) -> ChatMessage:
    """The stored row of the unsaved `message`, as a query would return it (`Model.from_db`)."""
    fields = ChatMessage._meta.concrete_fields
    values = [
        pk
        if f.primary_key
        else created_at
        if f.name == "created_at"
        else getattr(message, f.attname)
        for f in fields
    ]
    return ChatMessage.from_db(connection.alias, [f.attname for f in fields], values)


# --- One visitor message: one statement ------------------------------------------------------

# A message moves its session's last_activity_at only when the stamp is older
# than this (or the row changes anyway: a closed chat back to the AI, another
# tour page). Its readers need minutes, not the newest message: retention
# purges by days (analytics/retention.py), the admin lists and exports
# transcripts with it. Skipping the UPDATE spares the session row a new version
# (heap tuple, index entries, WAL) on nearly every message of a conversation.
ACTIVITY_STAMP_GRANULARITY = timedelta(seconds=60)


def activity_stale_before(now: datetime) -> datetime:
    """A last_activity_at older than this is moved by a message written at `now`."""
    return now - ACTIVITY_STAMP_GRANULARITY


# Columns of a new message the message statements set themselves; the rest get
# their field defaults (`lean_rows.insert_select`).
_MESSAGE_GIVEN = {
    "session": "locked.id",
    "author": "%(author)s",
    "text": "%(text)s",
    "client_id": "%(client_id)s",
    "created_at": "%(now)s",
}


@dataclass(frozen=True)
class StoredVisitorMessage:
    """What the visitor message statement did.

    `message` is the new row (created) or the earlier one with the same
    client_id (a retry or a clash), None if neither (the earlier one was
    committed while the statement waited for the session lock: read it again).
    """

    session_public_id: UUID
    status_before: str
    status: str  # after the statement
    created: bool
    message: ChatMessage | None


@cache
def _visitor_message_sql() -> tuple[str, dict[str, Any]]:
    m, s, t = ChatMessage, ChatSession, Tour
    columns, values, defaults = insert_select(m, _MESSAGE_GIVEN)
    cid = column_name(m, "client_id")
    sql = (
        # The session row, locked: a takeover (which takes the same lock) is
        # ordered before or after this message, never beside it.
        f"WITH locked AS (SELECT {column(s, 'id')} AS id, {column(s, 'public_id')} AS public_id, "
        f"{column(s, 'status')} AS status, {column(s, 'tour')} AS tour_id "
        f"FROM {table(s)} WHERE {column(s, 'id')} = %(session)s FOR UPDATE OF {table(s)}), "
        # The tour page the visitor is on now, if it changed and is published
        # (slugs are unique: another slug is another row).
        f"page AS (SELECT {column(t, 'id')} AS id FROM {table(t)}, locked "
        f"WHERE {column(t, 'slug')} = %(tour)s AND {column(t, 'status')} = %(published)s "
        f"AND {column(t, 'id')} IS DISTINCT FROM locked.tour_id LIMIT 1), "
        # Once per client_id: a retry inserts nothing (the unique constraint).
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM locked "
        f"ON CONFLICT ({column_name(m, 'session')}, {cid}) WHERE {cid} IS NOT NULL DO NOTHING "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at), "
        # A closed operator conversation hands back to the AI; the activity stamp
        # moves when it is older than ACTIVITY_STAMP_GRANULARITY.
        f"touched AS (UPDATE {table(s)} SET {column_name(s, 'last_activity_at')} = "
        f"stored.created_at, {column_name(s, 'status')} = CASE WHEN {column(s, 'status')} = "
        f"%(closed)s THEN %(ai)s ELSE {column(s, 'status')} END, {column_name(s, 'tour')} = "
        f"COALESCE((SELECT id FROM page), {column(s, 'tour')}) FROM stored "
        f"WHERE {column(s, 'id')} = %(session)s AND ({column(s, 'last_activity_at')} < %(stale)s "
        f"OR {column(s, 'status')} = %(closed)s OR EXISTS (SELECT 1 FROM page)) "
        f"RETURNING {column(s, 'status')} AS status) "
        # No new row version: the status is the one locked.
        f"SELECT locked.public_id, locked.status, COALESCE(touched.status, locked.status), "
        f"stored.id, stored.created_at, "
        f"{earlier_columns('earlier')} "
        f"FROM locked LEFT JOIN stored ON TRUE LEFT JOIN touched ON TRUE "
        f"LEFT JOIN LATERAL ({earlier_message_sql('stored', 'locked')}) AS earlier ON TRUE"
    )
    return sql, defaults


# What a retry is answered with: the earlier message's fields the frames read.
EARLIER_FIELDS = ("id", "author", "text", "created_at", "operator")


def earlier_columns(alias: str) -> str:
    """EARLIER_FIELDS' columns of `alias` (an `earlier_message_sql` subquery), in that order."""
    return ", ".join(f"{alias}.{column_name(ChatMessage, name)}" for name in EARLIER_FIELDS)


def earlier_message_sql(stored: str, locked: str, client_id: str = "%(client_id)s") -> str:
    """The earlier message with the client_id, read only when `stored` inserted nothing.

    Lateral, so the condition on `stored` alone is a one-time filter: a new
    message skips the lookup instead of probing the index for nothing (the
    LIMIT, one row at most by the unique constraint anyway, keeps the planner
    from flattening it into a join filter, which probes on every message).
    """
    m = ChatMessage
    return (
        f"SELECT {', '.join(column_name(m, name) for name in EARLIER_FIELDS)} FROM {table(m)} "
        f"WHERE {stored}.id IS NULL AND {column(m, 'session')} = {locked}.id "
        f"AND {column(m, 'client_id')} = {client_id} LIMIT 1"
    )


def visitor_message_statement(
    *, session_pk: int, client_id: str, text: str, tour_slug: str | None, now: datetime
) -> tuple[str, dict[str, Any]]:
    """The statement storing one visitor message and touching its session, with its parameters."""
    sql, defaults = _visitor_message_sql()
    return sql, {
        **defaults,
        "session": session_pk,
        "author": ChatMessage.Author.VISITOR,
        "text": text,
        "client_id": client_id,
        "now": now,
        "stale": activity_stale_before(now),
        "tour": tour_slug,
        "published": Tour.Status.PUBLISHED,
        "closed": ChatSession.Status.CLOSED,
        "ai": ChatSession.Status.AI,
    }


def _visitor_row_columns() -> str:
    """The columns of one caller's JSON row in `_visitor_messages_sql`, typed as the
    model's columns their values go to or are compared with."""
    m = ChatMessage
    created = column_type(m, "created_at")
    return (
        f"ord int, session_pk {column_type(ChatSession, 'id')}, "
        f"cid {column_type(m, 'client_id')}, body {column_type(m, 'text')}, "
        f"tour_slug {column_type(Tour, 'slug')}, at {created}, stale {created}"
    )


@cache
def _visitor_messages_sql() -> tuple[str, dict[str, Any]]:
    """`_visitor_message_sql` for several chats: the same CTEs, one row per chat.

    Locks the sessions in the callers' order ("ord": the group's lock order),
    and returns "ord" and then the single statement's columns for each
    session that exists.
    """
    m, s, t = ChatMessage, ChatSession, Tour
    given = {
        **_MESSAGE_GIVEN,
        "text": "locked.body",
        "client_id": "locked.cid",
        "created_at": "locked.at",
    }
    columns, values, defaults = insert_select(m, given)
    cid, session_fk = column_name(m, "client_id"), column_name(m, "session")
    sql = (
        f"WITH input AS (SELECT * FROM jsonb_to_recordset(%(rows)s) "
        f"AS i({_visitor_row_columns()})), "
        f"locked AS MATERIALIZED (SELECT {column(s, 'id')} AS id, "
        f"{column(s, 'public_id')} AS public_id, {column(s, 'status')} AS status, "
        f"{column(s, 'tour')} AS tour_id, input.* FROM {table(s)} "
        f"JOIN input ON {column(s, 'id')} = input.session_pk ORDER BY input.ord "
        f"FOR UPDATE OF {table(s)}), "
        f"page AS (SELECT locked.id AS session_pk, {column(t, 'id')} AS id FROM locked "
        f"JOIN {table(t)} ON {column(t, 'slug')} = locked.tour_slug "
        f"AND {column(t, 'status')} = %(published)s "
        f"AND {column(t, 'id')} IS DISTINCT FROM locked.tour_id), "
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM locked "
        f"ORDER BY locked.ord "
        f"ON CONFLICT ({session_fk}, {cid}) WHERE {cid} IS NOT NULL DO NOTHING "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at, "
        f"{session_fk} AS session_pk), "
        f"touched AS (UPDATE {table(s)} SET {column_name(s, 'last_activity_at')} = "
        f"stored.created_at, {column_name(s, 'status')} = CASE WHEN {column(s, 'status')} = "
        f"%(closed)s THEN %(ai)s ELSE {column(s, 'status')} END, {column_name(s, 'tour')} = "
        f"COALESCE(page.id, {column(s, 'tour')}) "
        f"FROM stored JOIN locked ON locked.id = stored.session_pk "
        f"LEFT JOIN page ON page.session_pk = stored.session_pk "
        f"WHERE {column(s, 'id')} = stored.session_pk AND ({column(s, 'last_activity_at')} "
        f"< locked.stale OR {column(s, 'status')} = %(closed)s OR page.id IS NOT NULL) "
        f"RETURNING {column(s, 'id')} AS id, {column(s, 'status')} AS status) "
        f"SELECT locked.ord, locked.public_id, locked.status, "
        f"COALESCE(touched.status, locked.status), stored.id, stored.created_at, "
        f"{earlier_columns('earlier')} "
        f"FROM locked LEFT JOIN stored ON stored.session_pk = locked.id "
        f"LEFT JOIN touched ON touched.id = locked.id "
        f"LEFT JOIN LATERAL ({earlier_message_sql('stored', 'locked', 'locked.cid')}) AS earlier "
        f"ON TRUE"
    )
    return sql, defaults


@cache
def visitor_messages_batch() -> Batch:
    sql, defaults = _visitor_messages_sql()
    return Batch(
        sql,
        {
            **defaults,
            "author": ChatMessage.Author.VISITOR,
            "published": Tour.Status.PUBLISHED,
            "closed": ChatSession.Status.CLOSED,
            "ai": ChatSession.Status.AI,
        },
    )


def visitor_message_batch_row(params: dict[str, Any]) -> BatchRow:
    """This message's part of `visitor_messages_batch`, from `visitor_message_statement`'s
    parameters (the same values, so the two cannot disagree)."""
    return BatchRow(
        visitor_messages_batch(),
        {
            "session_pk": params["session"],
            "cid": params["client_id"],
            "body": params["text"],
            "tour_slug": params["tour"],
            "at": params["now"].isoformat(),
            "stale": params["stale"].isoformat(),
        },
    )


def visitor_message_result(
    row: Sequence[Any] | None, *, session_pk: int, client_id: str, text: str
) -> StoredVisitorMessage:
    """Read the statement's one row (None: no such session)."""
    if row is None:
        raise ChatSession.DoesNotExist(f"no chat session {session_pk}")
    public_id, before, after, new_id, created_at, old_id, author, old_text, old_at, operator = row
    if new_id is not None:
        message = message_row(
            new_id, session_pk, ChatMessage.Author.VISITOR, text, client_id, created_at, None
        )
        return StoredVisitorMessage(public_id, before, after, True, message)
    earlier = (
        message_row(old_id, session_pk, author, old_text, client_id, old_at, operator)
        if old_id is not None
        else None
    )
    return StoredVisitorMessage(public_id, before, before, False, earlier)


def message_row(
    pk: int,
    session_pk: int,
    author: str,
    text: str,
    client_id: str | None,
    created_at: datetime,
    operator_id: int | None,
) -> ChatMessage:
    """A stored message as the frames and counters read it (the other fields: their defaults)."""
    return ChatMessage(
        id=pk,
        session_id=session_pk,
        author=author,
        text=text,
        client_id=client_id,
        created_at=created_at,
        operator_id=operator_id,
    )


@cache
def _earlier_sql() -> str:
    m = ChatMessage
    return (
        f"SELECT {', '.join(column(m, name) for name in EARLIER_FIELDS)} FROM {table(m)} "
        f"WHERE {column(m, 'session')} = %s AND {column(m, 'client_id')} = %s"
    )


async def message_by_client_id_async(
    conn: Any, session_pk: int, client_id: str
) -> ChatMessage | None:
    """The message with `client_id`, on the event loop's connection (a fresh snapshot).

    Only what the frames read: raw psycopg returns jsonb decoded, which the
    model's `from_db_value` would decode again, so no whole row here.
    """
    cursor = await conn.execute(_earlier_sql(), [session_pk, client_id])
    row = await cursor.fetchone()
    if row is None:
        return None
    pk, author, text, created_at, operator_id = row
    return message_row(pk, session_pk, author, text, client_id, created_at, operator_id)
