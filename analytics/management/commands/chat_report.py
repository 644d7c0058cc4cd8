"""The analytics page in the terminal: `manage.py chat_report --days 7 [--format csv|json]`."""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from analytics.metrics import Period, ResponseTimes
from analytics.report import Report, as_dict, build_report, csv_rows
from analytics.templatetags.analytics_format import duration, ms_as_seconds, number, percent
from analytics.textable import render

MAX_DAYS = 366


class Command(BaseCommand):
    help = (
        "Print the chat metrics of the last N days (today included): a table, CSV "
        "(section,key,metric,value) or JSON. Definitions: docs/metrics.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="days back from today (7)")
        parser.add_argument(
            "--format", choices=["table", "csv", "json"], default="table", dest="output_format"
        )
        parser.add_argument("--top", type=int, default=5, help="entries in the top lists (5)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        top = options["top"]
        if top < 1:
            raise CommandError("--top must be at least 1.")
        report = build_report(Period.last_days(days), top=top)
        output = options["output_format"]
        if output == "json":
            self.stdout.write(json.dumps(as_dict(report), ensure_ascii=False, indent=2))
        elif output == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerows(csv_rows(report))
        else:
            self.stdout.write(table(report, top))


def _timing_row(label: str, row: ResponseTimes) -> list[object]:
    return [
        label,
        row.answers,
        ms_as_seconds(row.total.mean),
        ms_as_seconds(row.total.p50),
        ms_as_seconds(row.total.p95),
        ms_as_seconds(row.first_token.p50),
        ms_as_seconds(row.first_token.p95),
    ]


def table(report: Report, top: int) -> str:
    """The report as readable terminal text."""
    period = report.period
    o, h, ai = report.outcomes, report.handoffs, report.ai
    messages = report.messages
    blocks = [
        _("Chat report: %(first)s to %(last)s (%(days)d days, %(tz)s)")
        % {
            "first": period.first_day.isoformat(),
            "last": period.last_day.isoformat(),
            "days": period.length,
            "tz": period.start.tzinfo,
        },
        render(
            [_("Conversations"), _("Count"), _("Share")],
            [
                [_("Resolved by the AI"), o.resolved_by_ai, percent(o.resolution_rate)],
                [_("Handed to operators"), o.handed_off, percent(o.handoff_rate)],
                [_("AI answered, rated 1–2"), o.rated_badly, percent(o.rated_badly_rate)],
                [_("No answer and no handoff"), o.unanswered, percent(o.unanswered_rate)],
                [_("Total"), o.conversations, ""],
            ],
        ),
        _("Messages: visitors %(v)d, AI %(a)d, operators %(o)d, system %(s)d")
        % {
            "v": messages.get("visitor", 0),
            "a": messages.get("ai", 0),
            "o": messages.get("operator", 0),
            "s": messages.get("system", 0),
        },
        render(
            [
                _("AI model"),
                _("Answers"),
                _("mean"),
                _("median"),
                "p95",
                _("first token median"),
                _("first token p95"),
            ],
            [_timing_row(row.key or _("(offline)"), row) for row in report.response_by_model]
            + [_timing_row(_("All models"), report.response)],
        ),
        _(
            "AI answers: %(n)d; fallback model %(fb)s; offline %(off)s; cut off %(cut)d; "
            "with an error %(err)d; tokens %(tokens)s; cost %(cost)s USD"
        )
        % {
            "n": ai.answers,
            "fb": percent(ai.fallback_rate),
            "off": percent(ai.offline_rate),
            "cut": ai.partial,
            "err": ai.errors,
            "tokens": number(ai.prompt_tokens + ai.completion_tokens),
            "cost": number(ai.cost, 4),
        },
        render(
            [_("Operators"), _("Count"), _("mean"), _("median"), "p95"],
            [
                [_("Support requests"), h.requests, "", "", ""],
                [
                    _("Waiting in the queue"),
                    h.waiting.count,
                    duration(h.waiting.mean),
                    duration(h.waiting.p50),
                    duration(h.waiting.p95),
                ],
                [
                    _("Operator's first reply"),
                    h.first_response.count,
                    duration(h.first_response.mean),
                    duration(h.first_response.p50),
                    duration(h.first_response.p95),
                ],
                [_("Abandoned requests"), h.abandoned, percent(h.abandon_rate), "", ""],
                [_("Put back in the queue"), h.requeued, "", "", ""],
            ],
        ),
        render(
            [_("CSAT"), _("Ratings"), _("Average"), _("Rated 4–5"), "1", "2", "3", "4", "5"],
            [
                [
                    label,
                    c.ratings,
                    number(c.average, 2),
                    percent(c.satisfied_share),
                    *c.distribution.values(),
                ]
                for label, c in (
                    (_("AI only"), report.csat.ai_only),
                    (_("With an operator"), report.csat.operator),
                    (_("All"), report.csat.all),
                )
            ],
        ),
        render(
            [_("Tour"), _("Conversations")],
            [[t.title, t.conversations] for t in report.top_tours[:top]],
        ),
        *_bookings_blocks(report, top),
        render(
            [_("FAQ entry"), _("AI answers")],
            [[f.question, f.answers] for f in report.top_faq[:top]],
        ),
        render(
            [_("Word"), _("Stem"), _("Messages")],
            [[w.word, w.lexeme, w.messages] for w in report.top_words[:top]],
        ),
        render(
            [
                _("Day"),
                _("Conversations"),
                _("Handed off"),
                _("Messages"),
                _("AI answers"),
                _("Answer median"),
                _("Answer p95"),
                _("Tokens"),
                _("Rate-limited"),
                _("Moderated"),
            ],
            [
                [
                    row.day.isoformat(),
                    row.conversations,
                    row.handed_off,
                    row.total_messages,
                    row.ai_answers,
                    ms_as_seconds(row.answer_p50_ms),
                    ms_as_seconds(row.answer_p95_ms),
                    number(row.prompt_tokens + row.completion_tokens),
                    row.rate_limited,
                    row.moderated,
                ]
                for row in report.days
            ],
        ),
    ]
    return "\n\n".join(blocks) + "\n"


def _bookings_blocks(report: Report, top: int) -> list[str]:
    """Bookings from the chat (docs/metrics.md): the totals and the tours."""
    b = report.bookings
    if b is None:
        return []
    return [
        render(
            [_("Bookings from the chat"), _("Count"), _("Share")],
            [
                [_("Conversations that led to a booking"), b.with_booking, percent(b.booking_rate)],
                [_("Bookings made in the chat"), b.bookings, ""],
                [
                    _("Made without an operator"),
                    b.without_operator,
                    percent(b.without_operator_share),
                ],
            ],
        ),
        render(
            [_("Tour"), _("Bookings"), _("Places")],
            [[t.title, t.bookings, t.places] for t in b.per_tour[:top]],
        ),
    ]
