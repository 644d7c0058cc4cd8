"""One report of every metric for a period: what the page, the CSV and `chat_report` show.

The page, the CSV export and the terminal report all read this same object,
so the figures cannot drift apart between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from analytics import metrics
from analytics.bookings import ChatBookings, chat_bookings
from analytics.counters import flush_buffer
from analytics.metrics import (
    AiQuality,
    Csat,
    CsatSplit,
    Handoffs,
    Outcomes,
    Period,
    ResponseTimes,
    Timing,
    TopFaq,
    TopTour,
    TopWord,
)


@dataclass(frozen=True)
class DayRow:
    """Every per-day figure of one local day."""

    day: date
    conversations: int
    handed_off: int
    messages: dict[str, int]
    ai_answers: int
    fallbacks: int
    offline: int
    answer_p50_ms: float | None
    answer_p95_ms: float | None
    first_token_p50_ms: float | None
    first_token_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal
    rate_limited: int
    moderated: int

    @property
    def handoff_rate(self) -> float | None:
        return self.handed_off / self.conversations if self.conversations else None

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    outcomes: Outcomes
    response: ResponseTimes
    response_by_model: list[ResponseTimes]
    handoffs: Handoffs
    csat: CsatSplit
    ai: AiQuality
    refusals: dict[str, int]
    days: list[DayRow]
    top_tours: list[TopTour]
    top_faq: list[TopFaq]
    top_words: list[TopWord]
    # Bookings made in the chat (analytics/bookings.py); None only for reports built by hand.
    bookings: ChatBookings | None = None

    @property
    def messages(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for row in self.days:
            for author, n in row.messages.items():
                totals[author] = totals.get(author, 0) + n
        return totals


def build_report(period: Period, *, top: int = 10, flush_counters: bool = True) -> Report:
    """Compute every metric of `period` (about fifteen queries)."""
    if flush_counters:
        flush_buffer()
    volume = metrics.volume_by_day(period)
    conversations = {row.day: row for row in metrics.conversations_by_day(period)}
    timings = {row.key: row for row in metrics.response_times_by_day(period)}
    refusals = metrics.refusals_by_day(period)
    days = []
    for v in volume:
        conv = conversations.get(v.day)
        timing = timings.get(v.day)
        days.append(
            DayRow(
                day=v.day,
                conversations=conv.conversations if conv else 0,
                handed_off=conv.handed_off if conv else 0,
                messages=v.messages,
                ai_answers=v.ai_answers,
                fallbacks=v.fallbacks,
                offline=v.offline,
                answer_p50_ms=timing.total.p50 if timing else None,
                answer_p95_ms=timing.total.p95 if timing else None,
                first_token_p50_ms=timing.first_token.p50 if timing else None,
                first_token_p95_ms=timing.first_token.p95 if timing else None,
                prompt_tokens=v.prompt_tokens,
                completion_tokens=v.completion_tokens,
                cost=v.cost,
                rate_limited=refusals[v.day]["rate_limited"],
                moderated=refusals[v.day]["moderated"],
            )
        )
    return Report(
        period=period,
        generated_at=timezone.now(),
        outcomes=metrics.outcomes(period),
        response=metrics.response_times(period),
        response_by_model=metrics.response_times_by_model(period),
        handoffs=metrics.handoffs(period),
        csat=metrics.csat(period),
        ai=metrics.ai_quality(volume),
        refusals={
            name: sum(day[name] for day in refusals.values()) for name in metrics.REFUSAL_NAMES
        },
        days=days,
        top_tours=metrics.top_tours(period, top),
        top_faq=metrics.top_faq(period, top),
        top_words=metrics.top_words(period, max(top, 20)),
        bookings=chat_bookings(period, top),
    )


# --- Plain data for JSON and CSV ---------------------------------------------------------


def _num(value: float | Decimal | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _timing(timing: Timing, digits: int = 1) -> dict[str, Any]:
    return {
        "count": timing.count,
        "mean": _num(timing.mean, digits),
        "p50": _num(timing.p50, digits),
        "p95": _num(timing.p95, digits),
    }


def _response(row: ResponseTimes) -> dict[str, Any]:
    return {
        "answers": row.answers,
        "total_ms": _timing(row.total),
        "first_token_ms": _timing(row.first_token),
    }


def _csat(csat: Csat) -> dict[str, Any]:
    return {
        "ratings": csat.ratings,
        "average": _num(csat.average, 2),
        "distribution": {str(score): n for score, n in csat.distribution.items()},
        "satisfied_4_5": csat.satisfied,
        "satisfied_share": _rate(csat.satisfied_share),
    }


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: rates are fractions (0..1), times ms or s as named."""
    o, h, ai = report.outcomes, report.handoffs, report.ai
    return {
        "period": {
            "from": report.period.first_day.isoformat(),
            "to": report.period.last_day.isoformat(),
            "days": report.period.length,
            "time_zone": str(metrics.site_timezone()),
        },
        "generated_at": report.generated_at.isoformat(),
        "conversations": {
            "total": o.conversations,
            "resolved_by_ai": o.resolved_by_ai,
            "handed_off": o.handed_off,
            "rated_badly": o.rated_badly,
            "unanswered": o.unanswered,
            "resolution_rate": _rate(o.resolution_rate),
            "handoff_rate": _rate(o.handoff_rate),
        },
        "messages": report.messages,
        "ai_response_time": {
            "all": _response(report.response),
            "by_model": {row.key or "": _response(row) for row in report.response_by_model},
        },
        "ai": {
            "answers": ai.answers,
            "fallbacks": ai.fallbacks,
            "fallback_rate": _rate(ai.fallback_rate),
            "offline": ai.offline,
            "offline_rate": _rate(ai.offline_rate),
            "partial": ai.partial,
            "errors": ai.errors,
            "prompt_tokens": ai.prompt_tokens,
            "completion_tokens": ai.completion_tokens,
            "cost_usd": str(ai.cost),
        },
        "handoffs": {
            "requests": h.requests,
            "by_status": h.by_status,
            "abandoned": h.abandoned,
            "abandon_rate": _rate(h.abandon_rate),
            "requeued": h.requeued,
            "queue_wait_s": _timing(h.waiting),
            "first_response_s": _timing(h.first_response),
        },
        "csat": {
            "all": _csat(report.csat.all),
            "ai_only": _csat(report.csat.ai_only),
            "operator": _csat(report.csat.operator),
        },
        "refusals": report.refusals,
        "days": [
            {
                "day": row.day.isoformat(),
                "conversations": row.conversations,
                "handed_off": row.handed_off,
                "handoff_rate": _rate(row.handoff_rate),
                "messages": row.messages,
                "ai_answers": row.ai_answers,
                "fallbacks": row.fallbacks,
                "offline": row.offline,
                "answer_p50_ms": _num(row.answer_p50_ms),
                "answer_p95_ms": _num(row.answer_p95_ms),
                "first_token_p50_ms": _num(row.first_token_p50_ms),
                "first_token_p95_ms": _num(row.first_token_p95_ms),
                "prompt_tokens": row.prompt_tokens,
                "completion_tokens": row.completion_tokens,
                "cost_usd": str(row.cost),
                "rate_limited": row.rate_limited,
                "moderated": row.moderated,
            }
            for row in report.days
        ],
        "top_tours": [
            {"slug": t.slug, "title": t.title, "conversations": t.conversations}
            for t in report.top_tours
        ],
        **_bookings(report.bookings),
        "top_faq": [
            {
                "id": f.faq_id,
                "question": f.question,
                "answers": f.answers,
                "conversations": f.conversations,
            }
            for f in report.top_faq
        ],
        "top_words": [
            {
                "lexeme": w.lexeme,
                "word": w.word,
                "messages": w.messages,
                "occurrences": w.occurrences,
            }
            for w in report.top_words
        ],
    }


CSV_HEADER = ["section", "key", "metric", "value"]


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _flatten(f"{prefix}.{name}" if prefix else str(name), inner)
    else:
        yield prefix, value


def csv_rows(report: Report) -> Iterator[list[str]]:
    """The report in long form: one figure per row (section, key, metric, value).

    `key` names the day, model, tour, FAQ entry or word a figure belongs to;
    empty for period-wide figures. Empty value = not defined (nothing to measure).
    """
    data = as_dict(report)
    yield CSV_HEADER
    keyed = {
        "days": "day",
        "top_tours": "slug",
        "top_faq": "id",
        "bookings_per_tour": "slug",
        "top_words": "lexeme",
    }
    for section, value in data.items():
        if section in keyed:
            key_field = keyed[section]
            for item in value:
                key = str(item[key_field])
                for metric, figure in _flatten("", item):
                    if metric != key_field:
                        yield [section, key, metric, _cell(figure)]
        elif section == "ai_response_time":
            for metric, figure in _flatten("", value["all"]):
                yield [section, "", metric, _cell(figure)]
            for model, figures in value["by_model"].items():
                for metric, figure in _flatten("", figures):
                    yield [section, model or "(none)", metric, _cell(figure)]
        elif isinstance(value, dict):
            for metric, figure in _flatten("", value):
                yield [section, "", metric, _cell(figure)]
        else:
            yield [section, "", section, _cell(value)]


def _bookings(bookings: ChatBookings | None) -> dict[str, Any]:
    """The chat's bookings (docs/metrics.md, "Bookings from the chat")."""
    if bookings is None:
        return {}
    return {
        "bookings": {
            "conversations_with_booking": bookings.with_booking,
            "booking_rate": _rate(bookings.booking_rate),
            "bookings": bookings.bookings,
            "places": bookings.places,
            "without_operator": bookings.without_operator,
            "without_operator_share": _rate(bookings.without_operator_share),
        },
        "bookings_per_tour": [
            {"slug": t.slug, "title": t.title, "bookings": t.bookings, "places": t.places}
            for t in bookings.per_tour
        ],
    }


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
