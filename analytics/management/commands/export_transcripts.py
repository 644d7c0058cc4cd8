"""Export chat transcripts: one session or a date range, as JSON lines or text."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import transcripts
from chat.models import ChatSession

CHUNK = 200


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Write chat transcripts to stdout: one session (--session UUID) and/or the "
        "sessions with messages between --since and --until (local dates, inclusive; "
        "only those messages). JSON lines (one session per line) or readable text."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--session", help="the chat's public id (UUID)")
        parser.add_argument("--since", help="first day, YYYY-MM-DD")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--format", choices=["jsonl", "text"], default="jsonl", dest="output_format"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        selection = self._selection(options)
        count = 0
        for session in transcripts.sessions(selection).iterator(chunk_size=CHUNK):
            data = transcripts.record(session)
            if options["output_format"] == "jsonl":
                self.stdout.write(json.dumps(data, ensure_ascii=False))
            else:
                for line in transcripts.text(data):
                    self.stdout.write(line)
            count += 1
        self.stderr.write(f"Exported {count} chat session(s).")

    def _selection(self, options: dict[str, Any]) -> transcripts.Selection:
        session: UUID | None = None
        if options["session"]:
            try:
                session = UUID(options["session"])
            except ValueError:
                raise CommandError(f"Not a session id: {options['session']!r}") from None
            if not ChatSession.objects.filter(public_id=session).exists():
                raise CommandError(f"No chat session {session}.")
        since = _date(options["since"]) if options["since"] else None
        until = _date(options["until"]) if options["until"] else None
        if session is None and since is None:
            raise CommandError("Give --session UUID, or --since DATE (and optionally --until).")
        if since and until and until < since:
            raise CommandError("--until is before --since.")
        return transcripts.Selection(session=session, since=since, until=until)
