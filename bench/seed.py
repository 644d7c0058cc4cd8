"""Operators for the relay scenario and their login cookies.

`python -m bench.seed operators N` (run with the bench's server settings)
makes N operators the way `manage.py create_operator` does, logs each in
the way Django's login does (a session holding the user id, backend and
auth hash) and prints the cookies as a JSON list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module

from bench.stack import ROOT, server_env


def create_operators(count: int) -> list[str]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    from support.operators import make_operator

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for index in range(count):
        username = f"bench-operator-{index}"
        # No password: hashing one costs about a second; they log in by cookie.
        get_user_model().objects.get_or_create(username=username)
        user = make_operator(
            username=username, display_name=f"Оператор {index}", max_chats=100
        ).user
        session = store_class()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


def operator_cookies(count: int) -> list[str]:
    """Run the seeding in a child process with the servers' settings."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.seed", "operators", str(count)],
        cwd=ROOT,
        env=server_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cookies: list[str] = json.loads(out.strip().splitlines()[-1])
    return cookies


if __name__ == "__main__":
    if sys.argv[1:2] != ["operators"] or len(sys.argv) != 3:
        sys.exit("usage: python -m bench.seed operators N")
    print(json.dumps(create_operators(int(sys.argv[2]))))
