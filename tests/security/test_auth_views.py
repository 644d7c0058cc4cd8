"""Only the auth views the site uses exist: log in (throttled) and log out.

Django's `auth.urls` also brought password reset, unthrottled, mailing with
no mail configured (a traceback per request), and password change; staff
change passwords in the admin, and nothing asks for a reset by mail.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
        "/accounts/password_change/",
        "/accounts/password_change/done/",
    ],
)
def test_unused_auth_views_are_not_served(client, path):
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "operator@example.ru"}).status_code == 404


def test_login_and_logout_are_served(client, django_user_model):
    user = django_user_model.objects.create_user("ivan")
    assert client.get("/accounts/login/").status_code == 200
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
