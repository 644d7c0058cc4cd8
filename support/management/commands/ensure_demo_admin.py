"""Create (or recover) the demo superuser that `make run` prints.

The password is generated once and kept in .demo-admin (git-ignored), so
running `make run` again prints the same credentials. Refused in production.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from support.demo_canned import load_demo_canned_replies
from support.models import OperatorProfile

OPERATORS_GROUP = "Операторы"


class Command(BaseCommand):
    help = "Create the demo admin (also a support operator) and print its credentials."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--site", default="http://127.0.0.1:8000", help="where the site runs (for the message)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError("Refusing to create a demo admin in production mode.")
        username = options["username"]
        secret_file = Path(settings.BASE_DIR) / ".demo-admin"
        password = secret_file.read_text().strip() if secret_file.exists() else ""
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(username=username, password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        user.first_name = user.first_name or "Администратор"
        user.is_staff = True
        user.save(update_fields=["first_name", "is_staff"])
        user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
        profile, _ = OperatorProfile.objects.get_or_create(
            user=user, defaults={"display_name": "Алия"}
        )
        # The dashboard's quick replies, so that strip is useful on first look.
        load_demo_canned_replies(profile.display_name or "Алия")
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin and operator: {username} / {password}  "
                f"({options['site'].rstrip('/')}/admin/, dashboard /support/)"
            )
        )
