"""The operator socket's re-check reads the session and the user in one statement.

Each kind of loss it must see, made the way no signal sees it (queryset
updates, through-table deletes), and each time the same answer as Django's
own session store and `auth.get_user` give (`_session_operator_access_by_store`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.access import (
    PERMISSION,
    _session_operator_access_by_store,
    session_operator_access,
)
from support.operators import operators_group
from tests.factories import make_operator, make_site_user, make_staff

pytestmark = pytest.mark.django_db


def logged_in(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def both(session_key: str | None, user_id: int) -> str:
    """The one-statement answer, checked against Django's own."""
    fast = session_operator_access(session_key, user_id)
    if session_key:
        assert fast == _session_operator_access_by_store(session_key, user_id)
    return fast


def users() -> Any:
    return get_user_model().objects


def test_a_logged_in_operator_is_ok_in_one_query():
    user = make_operator()
    key = logged_in(user)
    with CaptureQueriesContext(connection) as queries:
        assert session_operator_access(key, user.pk) == "ok"
    assert len(queries) == 1
    assert both(key, user.pk) == "ok"


def test_no_session_or_an_unknown_one_is_login():
    user = make_operator()
    assert both(None, user.pk) == "login"
    assert both("x" * 32, user.pk) == "login"


def test_an_expired_session_is_login():
    user = make_operator()
    key = logged_in(user)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    assert both(key, user.pk) == "login"


def test_a_deleted_session_is_login():
    user = make_operator()
    key = logged_in(user)
    Session.objects.filter(session_key=key).delete()
    assert both(key, user.pk) == "login"


def test_the_session_of_another_user_is_login():
    user, other = make_operator(), make_operator()
    key = logged_in(other)
    assert both(key, user.pk) == "login"


def test_a_password_changed_without_a_signal_logs_the_session_out():
    user = make_operator()
    key = logged_in(user)
    user.set_password("новый-пароль-2026")
    users().filter(pk=user.pk).update(password=user.password)
    assert both(key, user.pk) == "login"


def test_a_user_deactivated_without_a_signal_is_login():
    user = make_operator()
    key = logged_in(user)
    users().filter(pk=user.pk).update(is_active=False)
    assert both(key, user.pk) == "login"


def test_a_deleted_user_is_login():
    user = make_operator()
    key = logged_in(user)
    pk = user.pk
    users().filter(pk=pk).delete()
    assert session_operator_access(key, pk) == "login"


def test_not_staff_any_more_without_a_signal_is_forbidden():
    user = make_operator()
    key = logged_in(user)
    users().filter(pk=user.pk).update(is_staff=False)
    assert both(key, user.pk) == "forbidden"


def test_leaving_the_group_without_a_signal_is_forbidden():
    user = make_operator()
    key = logged_in(user)
    membership = get_user_model().groups.through
    membership.objects.filter(user_id=user.pk, group=operators_group()).delete()
    assert both(key, user.pk) == "forbidden"


def test_the_group_losing_the_permission_is_forbidden():
    user = make_operator()
    key = logged_in(user)
    app_label, codename = PERMISSION.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    operators_group().permissions.through.objects.filter(permission=permission).delete()
    assert both(key, user.pk) == "forbidden"


def test_the_permission_held_directly_is_ok_and_its_loss_forbidden():
    user = make_staff()
    app_label, codename = PERMISSION.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    user.user_permissions.add(permission)
    key = logged_in(user)
    assert both(key, user.pk) == "ok"
    user.user_permissions.through.objects.filter(user_id=user.pk).delete()
    assert both(key, user.pk) == "forbidden"


def test_a_superuser_needs_no_permission_but_must_be_staff():
    user = make_site_user(is_superuser=True, is_staff=True)
    key = logged_in(user)
    assert both(key, user.pk) == "ok"
    users().filter(pk=user.pk).update(is_staff=False)
    assert both(key, user.pk) == "forbidden"
