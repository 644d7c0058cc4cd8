"""Create a support operator: `manage.py create_operator alia --name "Алия"`.

The password comes from stdin (`--password-stdin`, e.g. from a secret
store) or is generated and printed once. Never from the command line,
where it would stay in the shell history and the process list.
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from support.operators import make_operator


class Command(BaseCommand):
    help = "Create a support operator (staff, in the Операторы group, with a profile)."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Display name visitors see")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin"
        )
        parser.add_argument(
            "--max-chats", type=int, default=None, help="Chats at once (default: site-wide)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password: str | None = None
        if options["password_stdin"]:
            stream = options.get("stdin") or sys.stdin
            password = stream.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on stdin.")
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        max_chats = options["max_chats"]
        if max_chats is not None and max_chats < 1:
            raise CommandError("--max-chats must be at least 1.")
        result = make_operator(
            username=options["username"],
            display_name=options["name"].strip(),
            password=password,
            max_chats=max_chats,
        )
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} operator {result.user.get_username()}."))
        if result.password:
            self.stdout.write(f"Password (shown once): {result.password}")
