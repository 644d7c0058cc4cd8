"""Fill a development database with a month of demo conversations (see analytics/demo.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import demo


class Command(BaseCommand):
    help = (
        "Create realistic demo conversations over the last N days (AI-only, handed off, "
        "rated, abandoned) so /support/analytics/ has something to show. Does nothing if "
        "demo traffic exists already, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="days back from today (30)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
        parser.add_argument(
            "--reset", action="store_true", help="delete earlier demo traffic and generate anew"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError("Refusing to create demo traffic in production mode.")
        days = options["days"]
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        existing = demo.demo_sessions().count()
        if existing and not options["reset"]:
            self.stdout.write(
                f"Demo traffic is already there ({existing} conversations); "
                "use --reset to generate it again."
            )
            return
        if existing:
            demo.delete_demo_traffic()
            self.stdout.write(f"Deleted {existing} earlier demo conversations.")
        result = demo.generate(days=days, seed=options["seed"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo traffic: {result.conversations} conversations, {result.messages} "
                f"messages, {result.handoffs} handoffs, {result.ratings} ratings over "
                f"{days} days. See /support/analytics/."
            )
        )
