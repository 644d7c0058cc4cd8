"""HTTP forms that take input are rate limited per IP (and logins per username)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django_ratelimit.core import get_usage

from support.models import OfflineTicket
from tatartours.throttle import login_username

pytestmark = pytest.mark.django_db

# A test that starts this close to the end of its window waits for the next one.
MARGIN_SECONDS = 30


def clear_of_a_window_end(group: str, key: Any, rate: str, ip: str, username: str = "") -> None:
    """django-ratelimit counts in fixed windows, each key at its own offset in the
    period (the crc32 of its value): a test that straddles one sees its count start
    again. The "operator" bucket turns at :28:17 every hour, and a CI run met it."""
    request = RequestFactory().post("/", {"username": username}, REMOTE_ADDR=ip)
    usage = get_usage(
        request, group=f"tatartours.{group}", key=key, rate=rate, method="POST", increment=False
    )
    if usage is not None and 0 <= usage["time_left"] < MARGIN_SECONDS:
        time.sleep(usage["time_left"] + 1)


def attempt(client: Client, username: str, ip: str, path: str = "/accounts/login/") -> int:
    response = client.post(
        path, {"username": username, "password": "wrong-password"}, REMOTE_ADDR=ip
    )
    return response.status_code


# Hourly rates: django-ratelimit counts in fixed windows, and a test that
# straddled a minute boundary would see its count start again.


def test_login_attempts_are_limited_per_ip(client, settings):
    settings.LOGIN_RATE_LIMIT = "10/h"
    clear_of_a_window_end("login", "ip", "10/h", ip="203.0.113.20")
    statuses = [attempt(client, f"user{n}", "203.0.113.20") for n in range(10)]
    assert statuses == [200] * 10  # the form again, with an error
    response = client.post(
        "/accounts/login/",
        {"username": "user-x", "password": "guess"},
        REMOTE_ADDR="203.0.113.20",
    )
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "Слишком много попыток" in response.content.decode()
    # Another address still reaches the form.
    assert attempt(client, "user-y", "198.51.100.20") == 200


def test_login_attempts_are_limited_per_username_across_ips(client, settings):
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "5/h"
    clear_of_a_window_end("login", login_username, "5/h", ip="203.0.113.1", username="operator")
    statuses = [attempt(client, "operator", f"203.0.113.{n}") for n in range(1, 7)]
    assert statuses == [200] * 5 + [429]


def test_spellings_of_one_username_share_its_limit(client, settings):
    """Spaces, full-width letters and case make no new bucket: the form logs each in as one user."""
    settings.LOGIN_RATE_LIMIT_PER_USERNAME = "5/h"
    spellings = ["operator", " operator", "operator\t", "\uff4fperator", "OPERATOR"]
    clear_of_a_window_end("login", login_username, "5/h", ip="203.0.113.1", username="operator")
    statuses = [attempt(client, name, f"203.0.113.{n}") for n, name in enumerate(spellings, 1)]
    assert statuses == [200] * 5
    assert attempt(client, "Operator ", "203.0.113.99") == 429


def test_the_admin_login_shares_the_limit(client, settings):
    settings.LOGIN_RATE_LIMIT = "3/h"
    clear_of_a_window_end("login", "ip", "3/h", ip="203.0.113.30")
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
    settings.LOGIN_RATE_LIMIT = "2/h"
    for _ in range(5):
        assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.50").status_code == 200


# --- offline tickets: the widget's form over HTTP, and the socket event -----

TICKET = {"name": "Ильдар", "phone": "+7 917 123-45-67", "question": "Перезвоните, пожалуйста"}


def post_ticket(client: Client, ip: str, **fields: str) -> tuple[int, dict]:
    response = client.post(
        "/support/offline-ticket/",
        data=json.dumps({**TICKET, **fields}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
        REMOTE_ADDR=ip,
    )
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_offline_tickets_over_http_are_limited_per_ip(client, settings):
    settings.TICKET_RATE_LIMIT = "5/h"
    clear_of_a_window_end("ticket", "ip", "5/h", ip="203.0.113.60")
    statuses = [post_ticket(client, "203.0.113.60")[0] for _ in range(5)]
    assert statuses == [201] * 5
    status, body = post_ticket(client, "203.0.113.60")
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["retry_after"] >= 1
    assert OfflineTicket.objects.count() == 5
    assert post_ticket(client, "198.51.100.60")[0] == 201


@pytest.mark.django_db(transaction=True)
def test_an_obscene_ticket_is_refused_as_moderated(client):
    status, body = post_ticket(client, "203.0.113.61", question="Вы там все мудаки")
    assert status == 400
    assert body["error"]["code"] == "moderated"
    assert not OfflineTicket.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_offline_tickets_over_the_socket_are_limited(visitor_from, settings):
    settings.TICKET_RATE_LIMIT = "2/h"
    socket = await visitor_from(ip="203.0.113.62")
    for _ in range(2):
        await socket.send({"type": "offline_ticket", **TICKET})
        await socket.until("offline_ticket_saved")
    await socket.send({"type": "offline_ticket", **TICKET})
    error, _ = await socket.until("error")
    assert error["code"] == "rate_limited"
    assert error["limit"] == "tickets"
    assert await OfflineTicket.objects.acount() == 2
