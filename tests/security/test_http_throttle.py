"""HTTP forms that take input are rate limited per IP (and logins per username)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, ip: str, path: str = "/accounts/login/") -> int:
    response = client.post(
        path, {"username": username, "password": "wrong-password"}, REMOTE_ADDR=ip
    )
    return response.status_code


def test_login_attempts_are_limited_per_ip(client, settings):
    settings.LOGIN_RATE_LIMIT = "10/m"
    statuses = [attempt(client, f"user{n}", "203.0.113.20") for n in range(10)]
    assert statuses == [200] * 10  # the form again, with an error
    response = client.post(
        "/accounts/login/",
        {"username": "user-x", "password": "guess"},
        REMOTE_ADDR="203.0.113.20",
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another address still reaches the form.
    assert attempt(client, "user-y", "198.51.100.20") == 200


def test_login_attempts_are_limited_per_username_across_ips(client, settings):
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "5/m"
    statuses = [attempt(client, "operator", f"203.0.113.{n}") for n in range(1, 7)]
    assert statuses == [200] * 5 + [429]


def test_the_admin_login_shares_the_limit(client, settings):
    settings.LOGIN_RATE_LIMIT = "3/m"
    assert [attempt(client, f"u{n}", "203.0.113.30") for n in range(3)] == [200] * 3
    assert attempt(client, "u9", "203.0.113.30", "/admin/login/") == 429


def test_a_correct_login_within_the_limit_works(client, django_user_model):
    django_user_model.objects.create_user("ivan", password="correct-horse-battery")
    response = client.post(
        "/accounts/login/",
        {"username": "ivan", "password": "correct-horse-battery"},
        REMOTE_ADDR="203.0.113.40",
    )
    assert response.status_code == 302


def test_looking_at_the_login_page_is_not_counted(client, settings):
    settings.LOGIN_RATE_LIMIT = "2/m"
    for _ in range(5):
        assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.50").status_code == 200
