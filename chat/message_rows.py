"""The statements every chat message runs, written once as SQL (tatartours/lean_rows.py says why).

Each function is one round trip inside the caller's transaction and returns
model instances, so the actions in chat/actions.py and support/actions.py
read like ORM code and keep their rules; only the query compiler is skipped.
Every table and column is named through the models (`lean_rows.column`,
`table`, `select_list`): a renamed field fails here at once, a changed
column follows by itself.
"""

from __future__ import annotations

from functools import cache
from uuid import UUID

from django.db import connection

from ai.retrieval import knowledge_stamp_sql
from chat.models import ChatMessage, ChatSession
from tatartours.lean_rows import column, fetch_optional, fetch_row, select_list, table
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


@cache
def _recent_sql() -> str:
    columns = ", ".join(column(ChatMessage, name) for name in CONTEXT_FIELDS)
    return (
        f"SELECT {columns} FROM {table(ChatMessage)} "
        f"WHERE {column(ChatMessage, 'session')} = %s AND {column(ChatMessage, 'author')} <> %s "
        f"ORDER BY {column(ChatMessage, 'id')} DESC LIMIT %s"
    )


def recent_conversation(session_pk: int, limit: int) -> list[ChatMessage]:
    """The newest `limit` non-system messages, newest first, with only CONTEXT_FIELDS loaded."""
    with connection.cursor() as cursor:
        cursor.execute(_recent_sql(), [session_pk, ChatMessage.Author.SYSTEM, limit])
        rows = cursor.fetchall()
    return [ChatMessage.from_db(connection.alias, CONTEXT_FIELDS, row) for row in rows]


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


@cache
def _line_cutoff_sql() -> str:
    # The support app's requests, named through the reverse relation it declares
    # (chat never imports support).
    requests = ChatSession._meta.get_field("support_requests").related_model
    assert isinstance(requests, type)  # a model class once the app registry is ready
    closed = column(requests, "closed_at")
    ended = (
        f"SELECT {closed} FROM {table(requests)} WHERE {column(requests, 'session')} = %s "
        f"AND {closed} IS NOT NULL ORDER BY {closed} DESC LIMIT 1"
    )
    cutoff = (
        f"SELECT max({column(ChatMessage, 'id')}) FROM {table(ChatMessage)} "
        f"WHERE {column(ChatMessage, 'session')} = %s AND {column(ChatMessage, 'author')} = %s "
        f"AND {column(ChatMessage, 'created_at')} <= ({ended})"
    )
    return f"SELECT ({cutoff}), {knowledge_stamp_sql()}"


def operator_line_cutoff_and_stamp(session_pk: int) -> tuple[int, str]:
    """(id of the newest visitor message written to the operator line of an ended support
    conversation, 0 if none; the AI knowledge base's stamp, `ai.retrieval.knowledge_stamp`).

    One statement for what an AI answer needs besides the conversation: the
    stamp rides along, so a process that holds the current knowledge base
    answers without another DB hop.
    """
    with connection.cursor() as cursor:
        cursor.execute(_line_cutoff_sql(), [session_pk, ChatMessage.Author.VISITOR, session_pk])
        row = cursor.fetchone()
    assert row is not None
    return int(row[0] or 0), str(row[1])
