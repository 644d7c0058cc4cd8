"""Who may operate support: active staff with the `support.operate_support` permission."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import import_module
from typing import Any, Literal

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from tatartours import async_db
from tatartours.db_health import run_db
from tatartours.lean_rows import column, column_name, table

PERMISSION = "support.operate_support"
OPERATORS_GROUP_NAME = "Операторы"

Access = Literal["ok", "login", "forbidden"]

# Session engines whose sessions are rows of django_session, which the one-statement
# check reads; any other engine is checked through Django's session store.
_DB_SESSION_ENGINES = frozenset({"django.contrib.sessions.backends.db"})


def operator_access(user: Any) -> Access:
    """Return "login" for anonymous users, "forbidden" for those without the permission.

    Reads the user's permissions from the database: call it from sync code.
    """
    if user is None or not user.is_authenticated:
        return "login"
    if not (user.is_active and user.is_staff and user.has_perm(PERMISSION)):
        return "forbidden"
    return "ok"


def is_operator(user: Any) -> bool:
    return operator_access(user) == "ok"


# --- The re-check of an open operator socket, in one statement ----------------------------


@dataclass(frozen=True)
class AccessRow:
    """What the re-check reads: the session row (if alive) and the user it must log in."""

    session_data: str | None  # None: no such session, or expired
    password: str | None  # None: no such user
    is_active: bool = False
    is_staff: bool = False
    is_superuser: bool = False
    has_permission: bool = False  # held directly or through a group
    permission_id: int | None = None  # the row of `support.operate_support`, if there is one


@dataclass(frozen=True)
class Grant:
    """Fingerprints of the session and user rows a decision of "ok" was made on.

    As long as the session row (its data) and the user's password are the same
    and the user is still an active staff member holding the permission, the
    decision stands without decoding the session again; the operator's message
    statement checks exactly that in SQL (`grant_holds_sql`, support/request_rows.py).
    `permission_id` is the permission row the decision found: the check looks
    it up by key instead of by app label and codename on every message, and a
    permission deleted and made again (another id) is decided afresh.
    """

    session_digest: bytes
    password_digest: bytes
    permission_id: int | None


def digest(value: str) -> bytes:
    """What the SQL's `sha256(convert_to(value, 'UTF8'))` gives for `value`."""
    return hashlib.sha256(value.encode()).digest()


def uses_db_sessions() -> bool:
    return settings.SESSION_ENGINE in _DB_SESSION_ENGINES


@cache
def _permission_sql() -> str:
    """Ids of `support.operate_support` (one row; a subquery, so a re-created one holds too)."""
    app_label, codename = PERMISSION.split(".")
    return (
        f"SELECT {column(Permission, 'id')} FROM {table(Permission)} "
        f"JOIN {table(ContentType)} ON {column(ContentType, 'id')} = "
        f"{column(Permission, 'content_type')} "
        f"WHERE {column(ContentType, 'app_label')} = '{app_label}' "
        f"AND {column(Permission, 'codename')} = '{codename}'"
    )


@cache
def access_columns_sql() -> str:
    """The SELECT list of the re-check, over `session` (django_session) and `member` (the user).

    Columns, in AccessRow's order: session data, password, is_active,
    is_staff, is_superuser, whether the permission is held directly or
    through a group (ModelBackend's rule; a superuser's is_superuser says the
    rest), and the permission's id.
    """
    user = get_user_model()
    user_permissions = user._meta.get_field("user_permissions")
    groups = user._meta.get_field("groups")
    group_permissions = Group._meta.get_field("permissions")
    direct = user_permissions.remote_field.through
    membership = groups.remote_field.through
    granted = group_permissions.remote_field.through
    pk = user._meta.pk
    assert pk is not None
    user_pk = f'member."{pk.column}"'

    def m2m(through: Any, field: Any) -> tuple[str, str, str]:
        return (
            f'"{through._meta.db_table}"',
            f'"{field.m2m_column_name()}"',
            f'"{field.m2m_reverse_name()}"',
        )

    direct_t, direct_user, direct_perm = m2m(direct, user_permissions)
    member_t, member_user, member_group = m2m(membership, groups)
    granted_t, granted_group, granted_perm = m2m(granted, group_permissions)
    permission = _permission_sql()
    flags = ", ".join(
        f"member.{column_name(user, name)}"
        for name in ("password", "is_active", "is_staff", "is_superuser")
    )
    return (
        f"session.{column_name(Session, 'session_data')}, {flags}, "
        f"(EXISTS (SELECT 1 FROM {direct_t} d WHERE d.{direct_user} = {user_pk} "
        f"AND d.{direct_perm} IN ({permission})) "
        f"OR EXISTS (SELECT 1 FROM {member_t} g JOIN {granted_t} gp "
        f"ON gp.{granted_group} = g.{member_group} WHERE g.{member_user} = {user_pk} "
        f"AND gp.{granted_perm} IN ({permission}))), "
        f"(SELECT min(found.id) FROM ({permission}) AS found (id))"
    )


@cache
def grant_holds_sql(source: str | None = None) -> str:
    """A condition, true while the `Grant` in the parameters still holds (`grant_params`).

    With `source`, the values are that relation's columns of the same names
    instead of parameters (one statement for several operators' messages).

    The same rules as `access_columns_sql` and `decide`, on the rows a Grant
    names: the session row by key (unexpired, its data unchanged), the user
    by key (password unchanged, active staff), and the permission by its id
    (still `support.operate_support`, held directly, through a group, or as
    a superuser). Every lookup is by a key or a unique index, so its cost
    does not grow with the permission tables; anything changed makes it
    false, and the caller decides afresh (`session_operator_access_async`).
    """
    user = get_user_model()
    user_permissions = user._meta.get_field("user_permissions")
    groups = user._meta.get_field("groups")
    group_permissions = Group._meta.get_field("permissions")
    through: tuple[Any, ...] = (
        user_permissions.remote_field.through,
        groups.remote_field.through,
        group_permissions.remote_field.through,
    )
    direct_t, member_t, granted_t = (f'"{t._meta.db_table}"' for t in through)
    pk = user._meta.pk
    assert pk is not None
    member = f'member."{pk.column}"'
    app_label, codename = PERMISSION.split(".")

    def flag(name: str) -> str:
        return f"member.{column_name(user, name)}"

    def value(name: str) -> str:
        return f"%({name})s" if source is None else f"{source}.{name}"

    data = f"session.{column_name(Session, 'session_data')}"
    permission = value("permission")
    return (
        f"EXISTS (SELECT 1 FROM {table(Session)} AS session JOIN {table(user)} AS member "
        f"ON {member} = {value('access_user')} "
        f"WHERE session.{column_name(Session, 'session_key')} = {value('session_key')} "
        f"AND session.{column_name(Session, 'expire_date')} > {value('now')} "
        f"AND sha256(convert_to({data}, 'UTF8')) = {value('session_digest')} "
        f"AND sha256(convert_to({flag('password')}, 'UTF8')) = {value('password_digest')} "
        f"AND {flag('is_active')} AND {flag('is_staff')} AND ({flag('is_superuser')} OR ("
        f"EXISTS (SELECT 1 FROM {table(Permission)} JOIN {table(ContentType)} "
        f"ON {column(ContentType, 'id')} = {column(Permission, 'content_type')} "
        f"WHERE {column(Permission, 'id')} = {permission} "
        f"AND {column(ContentType, 'app_label')} = '{app_label}' "
        f"AND {column(Permission, 'codename')} = '{codename}') "
        f"AND (EXISTS (SELECT 1 FROM {direct_t} d "
        f'WHERE d."{user_permissions.m2m_column_name()}" = {member} '
        f'AND d."{user_permissions.m2m_reverse_name()}" = {permission}) '
        f"OR EXISTS (SELECT 1 FROM {member_t} g JOIN {granted_t} gp "
        f'ON gp."{group_permissions.m2m_column_name()}" = g."{groups.m2m_reverse_name()}" '
        f'WHERE g."{groups.m2m_column_name()}" = {member} '
        f'AND gp."{group_permissions.m2m_reverse_name()}" = {permission})))))'
    )


def grant_params(
    session_key: str | None, user_id: int, now: datetime, grant: Grant | None
) -> dict[str, Any]:
    """The parameters of `grant_holds_sql` (no grant: a condition that is false)."""
    return {
        **access_params(session_key, user_id, now),
        "session_digest": grant.session_digest if grant else None,
        "password_digest": grant.password_digest if grant else None,
        "permission": grant.permission_id if grant else None,
    }


@cache
def access_from_sql() -> str:
    """FROM the session (by key, unexpired) and the user: params `access_params` names.

    The session row drives: no live session, no row at all.
    """
    user = get_user_model()
    pk = user._meta.pk
    assert pk is not None
    session_key = column_name(Session, "session_key")
    expire_date = column_name(Session, "expire_date")
    return (
        f"{table(Session)} AS session LEFT JOIN {table(user)} AS member "
        f'ON member."{pk.column}" = %(access_user)s '
        f"WHERE session.{session_key} = %(session_key)s AND session.{expire_date} > %(now)s"
    )


@cache
def _access_sql() -> str:
    return f"SELECT {access_columns_sql()} FROM {access_from_sql()}"


def access_params(session_key: str | None, user_id: int, now: datetime) -> dict[str, Any]:
    """The parameters of `access_from_sql`."""
    return {"access_user": user_id, "session_key": session_key, "now": now}


def access_row(values: tuple[Any, ...] | None) -> AccessRow:
    """An AccessRow from the columns of `access_columns_sql` (None: no live session)."""
    if values is None:
        return AccessRow(session_data=None, password=None)
    data, password, active, staff, superuser, permission, permission_id = values
    return AccessRow(
        data, password, bool(active), bool(staff), bool(superuser), bool(permission), permission_id
    )


def decide(row: AccessRow, user_id: int) -> tuple[Access, Grant | None]:
    """Django's rules (auth.get_user, ModelBackend, has_perm) applied to what the statement read.

    - no live session, a session of another user or of a backend no longer
      configured, a user gone or deactivated (ModelBackend does not return
      them), a session from before a password change (the session auth hash,
      checked like `auth.get_user`, SECRET_KEY_FALLBACKS included): "login";
    - not staff any more, or without the permission (directly, through a
      group, or as a superuser): "forbidden".
    Returns the Grant an "ok" was decided on.
    """
    if row.session_data is None or row.password is None:
        return "login", None
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    data = store.decode(row.session_data)
    user_model = get_user_model()
    try:
        session_user = user_model._meta.pk.to_python(data[auth.SESSION_KEY])
        backend = data[auth.BACKEND_SESSION_KEY]
    except (KeyError, ValueError, TypeError):
        return "login", None
    if session_user != user_id or backend not in settings.AUTHENTICATION_BACKENDS:
        return "login", None
    if not row.is_active:
        return "login", None
    # The user's session auth hash through its public method, on an unsaved
    # instance holding only the password the statement read.
    member = user_model(pk=user_id, password=row.password)
    session_hash = data.get(auth.HASH_SESSION_KEY)
    if not session_hash:
        return "login", None
    verified = constant_time_compare(session_hash, member.get_session_auth_hash()) or any(
        constant_time_compare(session_hash, fallback)
        for fallback in member.get_session_auth_fallback_hash()
    )
    if not verified:
        return "login", None
    if not (row.is_staff and (row.is_superuser or row.has_permission)):
        return "forbidden", None
    return "ok", Grant(digest(row.session_data), digest(row.password), row.permission_id)


def session_operator_access(session_key: str | None, user_id: int) -> Access:
    """Is the session an operator socket opened with still the operator `user_id`?

    Read afresh from the database in one statement (`decide` says the rules):
    the session must still exist, be unexpired and log in that user (Django's
    session hash, so a password change logs it out), and the user must still
    be an active operator. Call it from sync code; the socket's own re-check
    runs the same statement on the event loop (`session_operator_access_async`).
    """
    if not session_key:
        return "login"
    if not uses_db_sessions():
        return _session_operator_access_by_store(session_key, user_id)
    with connection.cursor() as cursor:
        cursor.execute(_access_sql(), access_params(session_key, user_id, timezone.now()))
        values = cursor.fetchone()
    return decide(access_row(values), user_id)[0]


async def session_operator_access_async(
    session_key: str | None, user_id: int
) -> tuple[Access, Grant | None]:
    """`session_operator_access` on the event loop (tatartours/async_db.py), with its Grant."""
    if not session_key:
        return "login", None
    if not uses_db_sessions():
        access = await run_db(lambda: _session_operator_access_by_store(session_key, user_id))
        return access, None

    async def read(conn: async_db.Connection) -> tuple[Any, ...] | None:
        cursor = await conn.execute(
            _access_sql(), access_params(session_key, user_id, timezone.now())
        )
        return await cursor.fetchone()

    return decide(access_row(await async_db.run(read)), user_id)


def _session_operator_access_by_store(session_key: str, user_id: int) -> Access:
    """The same check through Django's session store, for engines without django_session rows."""
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = auth.get_user(request)
    if not user.is_authenticated or user.pk != user_id:
        return "login"
    return operator_access(user)
