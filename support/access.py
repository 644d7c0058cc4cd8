"""Who may operate support: active staff with the `support.operate_support` permission."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Literal

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest

PERMISSION = "support.operate_support"
OPERATORS_GROUP_NAME = "Операторы"

Access = Literal["ok", "login", "forbidden"]


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


def session_operator_access(session_key: str | None, user_id: int) -> Access:
    """Is the session an operator socket opened with still the operator `user_id`?

    Read afresh from the database: the session must still exist, be unexpired
    and log in that user (Django's session hash, so a password change logs it
    out), and the user must still be an active operator. Deactivated users
    no longer authenticate, so they get "login". Call it from sync code.
    """
    if not session_key:
        return "login"
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = auth.get_user(request)
    if not user.is_authenticated or user.pk != user_id:
        return "login"
    return operator_access(user)
