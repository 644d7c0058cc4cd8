"""`manage.py ensure_demo_admin`: the admin `make run` prints, the same on every run."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from support.access import is_operator

pytestmark = pytest.mark.django_db


def run(settings, tmp_path, *args: str) -> tuple[str, str]:
    settings.BASE_DIR = tmp_path  # .demo-admin lives here, not in the checkout
    out = io.StringIO()
    call_command("ensure_demo_admin", *args, stdout=out)
    found = re.search(r"admin / (\S+)", out.getvalue())
    assert found, out.getvalue()
    return found.group(1), out.getvalue()


def test_the_admin_is_an_operator_and_keeps_its_password_across_runs(settings, tmp_path):
    password, _ = run(settings, tmp_path)
    again, _ = run(settings, tmp_path)
    assert again == password
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and is_operator(user)


def test_the_message_names_the_address_the_site_runs_on(settings, tmp_path):
    _, said = run(settings, tmp_path, "--site", "http://127.0.0.1:8123/")
    assert "http://127.0.0.1:8123/admin/" in said


def test_it_is_refused_in_production(settings, tmp_path):
    settings.MODE = "production"
    with pytest.raises(CommandError):
        call_command("ensure_demo_admin", stdout=io.StringIO())
