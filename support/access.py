"""Who may operate support: active staff with the `support.operate_support` permission."""

from __future__ import annotations

from typing import Any, Literal

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
