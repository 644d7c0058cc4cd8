"""Operators for the relay scenario and their login cookies.

`python -m bench.seed operators N` (run with the bench's server settings)
creates N staff users in the operators group, each with an operator
profile, logs each in the way Django's login does (a session holding the
user id, backend and auth hash) and prints the cookies as a JSON list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module

from bench.stack import ROOT, server_env

OPERATORS_GROUP = "Операторы"


def create_operators(count: int) -> list[str]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User

    from support.models import OperatorProfile

    group = Group.objects.get(name=OPERATORS_GROUP)
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = []
    for index in range(count):
        user, _ = User.objects.get_or_create(
            username=f"bench-operator-{index}", defaults={"is_staff": True}
        )
        user.groups.add(group)
        OperatorProfile.objects.get_or_create(
            user=user, defaults={"display_name": f"Оператор {index}", "max_chats": 100}
        )
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
