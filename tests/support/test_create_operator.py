"""`manage.py create_operator`: staff, in the Операторы group, with a profile."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from support.access import is_operator

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    options = {"stdout": out}
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command("create_operator", *args, **options)
    return out.getvalue()


def test_a_generated_password_is_printed_once_and_works():
    output = run("alia", "--name", "Алия")
    password = output.split("Password (shown once): ")[1].strip()
    user = authenticate(username="alia", password=password)
    assert user is not None and is_operator(user)
    assert user.operator_profile.display_name == "Алия"
    assert user.groups.filter(name="Операторы").exists()


def test_the_password_can_come_from_stdin_and_is_not_printed():
    output = run(
        "bulat",
        "--name",
        "Булат",
        "--password-stdin",
        "--max-chats",
        "5",
        stdin="Kazan-2026-tours\n",
    )
    assert "Kazan-2026-tours" not in output
    user = authenticate(username="bulat", password="Kazan-2026-tours")
    assert user is not None and user.operator_profile.max_chats == 5


def test_a_weak_password_from_stdin_is_refused():
    with pytest.raises(CommandError):
        run("weak", "--name", "Слабый", "--password-stdin", stdin="123\n")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_an_existing_user_becomes_an_operator_keeping_their_password():
    get_user_model().objects.create_user("guzel", password="Her-own-pass-2026")
    output = run("guzel", "--name", "Гузель")
    assert "Password" not in output
    user = authenticate(username="guzel", password="Her-own-pass-2026")
    assert user is not None and is_operator(user)
