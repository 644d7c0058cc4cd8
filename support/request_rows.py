"""The support request an operator message needs, in one prebuilt statement.

Every operator message checks who holds the chat and names them to the
visitor; through the ORM (select_related over the request, the user and the
profile) that lookup was the largest share of post_operator_message's Python
time in the relay profile. Same row, same rule; see tatartours/lean_rows.py.
`operator_message_statement` does all of an operator message in one
statement: the holder, the socket's access still as granted (support/access.py), the insert
and the request's and session's stamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from chat.message_rows import (
    activity_stale_before,
    earlier_columns,
    earlier_message_sql,
    message_row,
)
from chat.models import ChatMessage, ChatSession
from support.access import Grant, grant_holds_sql, grant_params
from support.models import OperatorProfile, SupportRequest
from support.names import public_name
from tatartours.group_commit import Batch, BatchRow
from tatartours.lean_rows import (
    column,
    column_name,
    column_type,
    fetch_row,
    insert_select,
    select_list,
    table,
)


@dataclass(frozen=True)
class HeldChat:
    request: SupportRequest
    operator_active: bool
    operator_name: str  # as the visitor sees it


@cache
def _held_chat_sql() -> str:
    user = get_user_model()
    user_pk = column(user, user._meta.pk.name)
    return (
        f"SELECT {select_list(SupportRequest)}, {column(user, 'is_active')}, "
        f"{column(OperatorProfile, 'display_name')}, {column(user, 'first_name')}, "
        f"{column(user, user.USERNAME_FIELD)} FROM {table(SupportRequest)} "
        f"JOIN {table(user)} ON {user_pk} = {column(SupportRequest, 'operator')} "
        f"LEFT JOIN {table(OperatorProfile)} "
        f"ON {column(OperatorProfile, 'user')} = {user_pk} "
        f"WHERE {column(SupportRequest, 'session')} = %s "
        f"AND {column(SupportRequest, 'status')} = %s LIMIT 1"
    )


def held_chat(session_pk: int) -> HeldChat | None:
    """The session's assigned request and its operator, or None if nobody holds it."""
    assigned = SupportRequest.Status.ASSIGNED
    found = fetch_row(SupportRequest, _held_chat_sql(), [session_pk, assigned])
    if found is None:
        return None
    request, (is_active, profile_name, first_name, username) = found
    return HeldChat(request, bool(is_active), public_name(profile_name, first_name, username))


# --- One operator message: one statement ------------------------------------------------------


@dataclass(frozen=True)
class StoredOperatorMessage:
    """What the operator message statement did (None fields: not there)."""

    session_pk: int
    session_public_id: UUID
    created: bool
    message: ChatMessage | None  # the new row, or the earlier one with the same client_id
    holder_id: int | None  # who holds the chat (an assigned request), if anyone
    holder_active: bool
    holder_name: str  # as the visitor sees them


# Columns of a new operator message the statements set themselves (the rest: defaults).
_OPERATOR_MESSAGE_GIVEN = {
    "session": "locked.id",
    "author": "%(author)s",
    "text": "%(text)s",
    "client_id": "%(client_id)s",
    "operator": "%(operator)s",
    "created_at": "%(now)s",
}


@cache
def _held_columns() -> str:
    """Who holds a `locked` chat (the `held` CTE): the request, its operator and their names."""
    r, user = SupportRequest, get_user_model()
    return (
        f"{column(r, 'id')} AS id, {column(r, 'operator')} AS operator_id, "
        f"{column(r, 'first_reply_at')} AS first_reply_at, {column(user, 'is_active')} AS active, "
        f"{column(OperatorProfile, 'display_name')} AS profile_name, "
        f"{column(user, 'first_name')} AS first_name, "
        f"{column(user, user.USERNAME_FIELD)} AS username"
    )


@cache
def _held_from_where() -> str:
    """The `held` CTE's FROM and WHERE: the assigned request of a `locked` chat."""
    r, user = SupportRequest, get_user_model()
    user_pk = column(user, user._meta.pk.name)
    return (
        f"FROM {table(r)} JOIN locked ON {column(r, 'session')} = locked.id "
        f"JOIN {table(user)} ON {user_pk} = {column(r, 'operator')} "
        f"LEFT JOIN {table(OperatorProfile)} ON {column(OperatorProfile, 'user')} = {user_pk} "
        f"WHERE {column(r, 'status')} = %(assigned)s"
    )


@cache
def _operator_message_sql() -> tuple[str, dict[str, Any]]:
    m, s, r = ChatMessage, ChatSession, SupportRequest
    columns, values, defaults = insert_select(m, _OPERATOR_MESSAGE_GIVEN)
    cid = column_name(m, "client_id")
    sql = (
        # The session row, locked: ordered with a close or a transfer of the chat.
        f"WITH locked AS (SELECT {column(s, 'id')} AS id, {column(s, 'public_id')} AS public_id "
        f"FROM {table(s)} WHERE {column(s, 'public_id')} = %(session_id)s FOR UPDATE), "
        # Who holds the chat, and their name for the visitor.
        f"held AS (SELECT {_held_columns()} {_held_from_where()} LIMIT 1), "
        # Still the session and the password the socket's last decision was made on,
        # and still an active staff member with the permission (support/access.py).
        f"allowed AS (SELECT 1 FROM held WHERE held.operator_id = %(operator)s AND held.active "
        f"AND (%(unchecked)s OR {grant_holds_sql()})), "
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM locked "
        f"WHERE EXISTS (SELECT 1 FROM allowed) "
        f"ON CONFLICT ({column_name(m, 'session')}, {cid}) WHERE {cid} IS NOT NULL DO NOTHING "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at), "
        f"replied AS (UPDATE {table(r)} SET {column_name(r, 'first_reply_at')} = stored.created_at "
        f"FROM stored, held WHERE {column(r, 'id')} = held.id AND held.first_reply_at IS NULL "
        f"RETURNING 1), "
        # The activity stamp moves when older than chat's ACTIVITY_STAMP_GRANULARITY.
        f"touched AS (UPDATE {table(s)} SET {column_name(s, 'last_activity_at')} = "
        f"stored.created_at FROM stored, locked WHERE {column(s, 'id')} = locked.id "
        f"AND {column(s, 'last_activity_at')} < %(stale)s RETURNING 1) "
        f"SELECT locked.id, locked.public_id, stored.id, stored.created_at, "
        f"held.operator_id, held.active, held.profile_name, held.first_name, held.username, "
        f"{earlier_columns('earlier')} "
        f"FROM locked LEFT JOIN stored ON TRUE LEFT JOIN held ON TRUE "
        f"LEFT JOIN LATERAL ({earlier_message_sql('stored', 'locked')}) AS earlier ON TRUE"
    )
    return sql, defaults


def operator_message_statement(
    *,
    operator_id: int,
    session_id: UUID,
    client_id: str,
    text: str,
    now: datetime,
    session_key: str | None,
    grant: Grant | None,
) -> tuple[str, dict[str, Any]]:
    """The statement storing one operator message, with its parameters.

    With `session_key`, the message is stored only if the socket's access
    still holds as `grant` says (when nothing is stored, the caller decides
    again: `support.access.session_operator_access_async`); without, only
    the holder rule applies (sync callers, sessions checked by their store).
    """
    sql, defaults = _operator_message_sql()
    return sql, {
        **defaults,
        **grant_params(session_key, operator_id, now, grant),
        "session_id": session_id,
        "assigned": SupportRequest.Status.ASSIGNED,
        "author": ChatMessage.Author.OPERATOR,
        "operator": operator_id,
        "text": text,
        "client_id": client_id,
        "now": now,
        "stale": activity_stale_before(now),
        "unchecked": session_key is None,
    }


def _operator_row_columns() -> str:
    """One caller's JSON row in `_operator_messages_sql`, typed as the columns its values
    go to or are compared with; the grant's values keep `grant_params`' names."""
    m, user = ChatMessage, get_user_model()
    user_pk = column_type(user, user._meta.pk.name)
    created = column_type(m, "created_at")
    return (
        f"ord int, session_id {column_type(ChatSession, 'public_id')}, operator {user_pk}, "
        f"body {column_type(m, 'text')}, cid {column_type(m, 'client_id')}, now {created}, "
        f"stale {created}, unchecked boolean, access_user {user_pk}, "
        f"session_key {column_type(Session, 'session_key')}, session_digest bytea, "
        f"password_digest bytea, permission int"
    )


@cache
def _operator_messages_sql() -> tuple[str, dict[str, Any]]:
    """`_operator_message_sql` for several chats: the same CTEs, one row per chat.

    Locks the sessions in the callers' order ("ord": the group's lock order),
    and returns "ord" and then the single statement's columns for each chat
    that exists.
    """
    m, s, r = ChatMessage, ChatSession, SupportRequest
    given = {
        **_OPERATOR_MESSAGE_GIVEN,
        "text": "locked.body",
        "client_id": "locked.cid",
        "operator": "locked.operator",
        "created_at": "locked.now",
    }
    columns, values, defaults = insert_select(m, given)
    cid, session_fk = column_name(m, "client_id"), column_name(m, "session")
    sql = (
        f"WITH input AS (SELECT * FROM jsonb_to_recordset(%(rows)s) "
        f"AS i({_operator_row_columns()})), "
        f"locked AS MATERIALIZED (SELECT {column(s, 'id')} AS id, "
        f"{column(s, 'public_id')} AS public_id, input.* FROM {table(s)} "
        f"JOIN input ON {column(s, 'public_id')} = input.session_id ORDER BY input.ord "
        f"FOR UPDATE OF {table(s)}), "
        f"held AS (SELECT DISTINCT ON (locked.id) locked.id AS session_pk, {_held_columns()} "
        f"{_held_from_where()} ORDER BY locked.id), "
        f"allowed AS (SELECT held.session_pk FROM held JOIN locked ON locked.id = held.session_pk "
        f"WHERE held.operator_id = locked.operator AND held.active "
        f"AND (locked.unchecked OR {grant_holds_sql('locked')})), "
        f"stored AS (INSERT INTO {table(m)} ({columns}) SELECT {values} FROM locked "
        f"WHERE locked.id IN (SELECT session_pk FROM allowed) ORDER BY locked.ord "
        f"ON CONFLICT ({session_fk}, {cid}) WHERE {cid} IS NOT NULL DO NOTHING "
        f"RETURNING {column_name(m, 'id')} AS id, {column_name(m, 'created_at')} AS created_at, "
        f"{session_fk} AS session_pk), "
        f"replied AS (UPDATE {table(r)} SET {column_name(r, 'first_reply_at')} = stored.created_at "
        f"FROM stored JOIN held ON held.session_pk = stored.session_pk "
        f"WHERE {column(r, 'id')} = held.id AND held.first_reply_at IS NULL RETURNING 1), "
        f"touched AS (UPDATE {table(s)} SET {column_name(s, 'last_activity_at')} = "
        f"stored.created_at FROM stored JOIN locked ON locked.id = stored.session_pk "
        f"WHERE {column(s, 'id')} = stored.session_pk "
        f"AND {column(s, 'last_activity_at')} < locked.stale RETURNING 1) "
        f"SELECT locked.ord, locked.id, locked.public_id, stored.id, stored.created_at, "
        f"held.operator_id, held.active, held.profile_name, held.first_name, held.username, "
        f"{earlier_columns('earlier')} "
        f"FROM locked LEFT JOIN stored ON stored.session_pk = locked.id "
        f"LEFT JOIN held ON held.session_pk = locked.id "
        f"LEFT JOIN LATERAL ({earlier_message_sql('stored', 'locked', 'locked.cid')}) AS earlier "
        f"ON TRUE"
    )
    return sql, defaults


@cache
def operator_messages_batch() -> Batch:
    sql, defaults = _operator_messages_sql()
    return Batch(
        sql,
        {
            **defaults,
            "author": ChatMessage.Author.OPERATOR,
            "assigned": SupportRequest.Status.ASSIGNED,
        },
    )


def _json_bytes(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()


def operator_message_batch_row(params: dict[str, Any]) -> BatchRow:
    """This message's part of `operator_messages_batch`, from `operator_message_statement`'s
    parameters (the same values, so the two cannot disagree)."""
    return BatchRow(
        operator_messages_batch(),
        {
            "session_id": str(params["session_id"]),
            "operator": params["operator"],
            "body": params["text"],
            "cid": params["client_id"],
            "now": params["now"].isoformat(),
            "stale": params["stale"].isoformat(),
            "unchecked": params["unchecked"],
            "access_user": params["access_user"],
            "session_key": params["session_key"],
            "session_digest": _json_bytes(params["session_digest"]),
            "password_digest": _json_bytes(params["password_digest"]),
            "permission": params["permission"],
        },
    )


def operator_message_result(
    row: Sequence[Any] | None, *, operator_id: int, client_id: str, text: str
) -> StoredOperatorMessage | None:
    """Read the statement's one row (None: no such chat)."""
    if row is None:
        return None
    (session_pk, public_id, new_id, created_at, holder, active, profile_name, first_name) = row[:8]
    (username, old_id, author, old_text, old_at, old_operator) = row[8:14]
    if new_id is not None:
        message: ChatMessage | None = message_row(
            new_id,
            session_pk,
            ChatMessage.Author.OPERATOR,
            text,
            client_id,
            created_at,
            operator_id,
        )
    elif old_id is not None:
        message = message_row(old_id, session_pk, author, old_text, client_id, old_at, old_operator)
    else:
        message = None
    return StoredOperatorMessage(
        session_pk=session_pk,
        session_public_id=public_id,
        created=new_id is not None,
        message=message,
        holder_id=holder,
        holder_active=bool(active),
        holder_name=public_name(profile_name, first_name, username) if holder else "",
    )
