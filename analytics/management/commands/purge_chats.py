"""Data retention: delete chats inactive for more than N days (dry run unless --yes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analytics import retention
from analytics.textable import render


class Command(BaseCommand):
    help = (
        "Delete chat sessions (with their messages, support requests and ratings) whose "
        "last activity is older than --older-than DAYS and that have no open support "
        "request. Dry run by default: prints what would go. --yes deletes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--yes", action="store_true", help="really delete")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if days < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - timedelta(days=days)
        when = timezone.localtime(cutoff).strftime("%Y-%m-%d %H:%M")
        if not options["yes"]:
            counts = retention.count(cutoff)
            self.stdout.write(f"Dry run: chats inactive since before {when} would be deleted.")
            self.stdout.write(render(["would delete", "count"], counts.rows()))
            self.stdout.write("Nothing was deleted. Run again with --yes to delete.")
            return
        counts = retention.purge(cutoff)
        self.stdout.write(f"Deleted chats inactive since before {when}.")
        self.stdout.write(render(["deleted", "count"], counts.rows()))
        self.stdout.write(self.style.SUCCESS(f"Done: {counts.sessions} chat sessions deleted."))
