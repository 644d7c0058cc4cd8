"""The support request an operator message needs, in one prebuilt statement.

Every operator message checks who holds the chat and names them to the
visitor; through the ORM (select_related over the request, the user and the
profile) that lookup was the largest share of post_operator_message's Python
time in the relay profile. Same row, same rule; see tatartours/lean_rows.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model

from support.models import OperatorProfile, SupportRequest
from support.names import public_name
from tatartours.lean_rows import column, fetch_row, select_list, table


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
