"""Operator sockets lose their power as soon as the operator does.

A socket is authorised at connect; these signal receivers tell its sockets,
through the channel layer and after the commit, that the operator's access
may have changed: on logout (that session's sockets close 4401), and on any
change to the user, their groups or permissions, or a group's permissions
(each socket re-reads its access and closes 4401 or 4403 if it is gone).
The operator socket also re-checks before every privileged action, so a
change no signal sees (a queryset update, an expired session) holds too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest

from chat.publish import publish_on_commit
from support.events import OPERATORS_GROUP, operator_group

# The frame the operator sockets react to (never forwarded to a dashboard).
ACCESS_CHANGED = "access_changed"


def access_changed_frame(logged_out: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": ACCESS_CHANGED}
    if logged_out:
        frame["logged_out"] = logged_out
    return frame


def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None or request is None or not getattr(request, "session", None):
        return
    key = request.session.session_key
    publish_on_commit(operator_group(int(user.pk)), access_changed_frame(logged_out=key))


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # A login stamps last_login: nothing about access changed.
    publish_on_commit(operator_group(int(instance.pk)), access_changed_frame())


def on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    publish_on_commit(operator_group(int(instance.pk)), access_changed_frame())


def on_membership_changed(sender: Any, action: str, **kwargs: Any) -> None:
    """Groups of users or permissions of groups or users: every operator socket re-checks
    (operators are few; working out who is affected from both sides of each relation is not)."""
    if action in {"post_add", "post_remove", "post_clear"}:
        publish_on_commit(OPERATORS_GROUP, access_changed_frame())


def on_group_deleted(sender: Any, **kwargs: Any) -> None:
    publish_on_commit(OPERATORS_GROUP, access_changed_frame())


def connect_signals() -> None:
    user_model = get_user_model()
    uid = "support.revocation"
    user_logged_out.connect(on_logout, dispatch_uid=f"{uid}.logout")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid=f"{uid}.user_saved")
    post_delete.connect(on_user_deleted, sender=user_model, dispatch_uid=f"{uid}.user_deleted")
    post_delete.connect(on_group_deleted, sender=Group, dispatch_uid=f"{uid}.group_deleted")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            on_membership_changed, sender=through, dispatch_uid=f"{uid}.m2m.{through.__name__}"
        )
