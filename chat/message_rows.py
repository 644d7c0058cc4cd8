"""The statements every chat message runs, written once as SQL (tatartours/lean_rows.py says why).

Each function is one round trip inside the caller's transaction and returns
model instances, so the actions in chat/actions.py and support/actions.py
read like ORM code and keep their rules; only the query compiler is skipped.
"""

from __future__ import annotations

from functools import cache
from uuid import UUID

from django.db import connection

from chat.models import ChatMessage, ChatSession
from tatartours.lean_rows import fetch_optional, fetch_row, select_list
from tours.models import Tour


@cache
def _session_sql(by: str) -> str:
    session, tour = ChatSession._meta.db_table, Tour._meta.db_table
    return (
        f"SELECT {select_list(ChatSession)}, {tour}.slug FROM {session} "
        f"LEFT JOIN {tour} ON {tour}.id = {session}.tour_id "
        f"WHERE {session}.{by} = %s FOR UPDATE OF {session}"
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
    table = ChatMessage._meta.db_table
    return (
        f"SELECT {select_list(ChatMessage)} FROM {table} WHERE session_id = %s AND client_id = %s"
    )


def message_by_client_id(session_pk: int, client_id: str) -> ChatMessage | None:
    return fetch_optional(ChatMessage, _by_client_id_sql(), [session_pk, client_id])


CONTEXT_FIELDS = ["id", "author", "text", "reply_to_id"]


def recent_conversation(session_pk: int, limit: int) -> list[ChatMessage]:
    """The newest `limit` non-system messages, newest first, with only CONTEXT_FIELDS loaded."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, author, text, reply_to_id FROM {ChatMessage._meta.db_table} "
            "WHERE session_id = %s AND author <> %s ORDER BY id DESC LIMIT %s",
            [session_pk, ChatMessage.Author.SYSTEM, limit],
        )
        rows = cursor.fetchall()
    return [ChatMessage.from_db(connection.alias, CONTEXT_FIELDS, row) for row in rows]


def is_answered_by_ai(session_pk: int, reply_to: int) -> bool:
    """An AI answer to `reply_to` or a later message exists.

    `id > reply_to` is implied (an answer comes after its question) and lets
    Postgres range-scan the (session, id) index instead of every AI message.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {ChatMessage._meta.db_table} WHERE session_id = %s AND id > %s "
            "AND author = %s AND reply_to_id >= %s LIMIT 1",
            [session_pk, reply_to, ChatMessage.Author.AI, reply_to],
        )
        return cursor.fetchone() is not None
