"""The staff metrics, computed in PostgreSQL from the stored chats.

Each function takes a `Period` (whole local days, both ends included) and
answers one question with one or two queries. Every definition is written
out in docs/metrics.md; the functions compute exactly that. Times are in
milliseconds for the AI and in seconds for people; percentiles are
PostgreSQL's `percentile_cont` (linear interpolation between the two
nearest values).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.stopwords import stop_words_text
from chat.models import ChatMessage, ChatSession, Rating
from support.models import SupportRequest
from tours.models import FaqEntry, Tour

# --- Periods ------------------------------------------------------------------


def site_timezone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Whole days in the site's time zone, `first_day` to `last_day` inclusive."""

    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("a period cannot end before it starts")

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        """The `days` days ending today (today included)."""
        if days < 1:
            raise ValueError("a period has at least one day")
        end = today or timezone.localdate()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=site_timezone())

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=site_timezone())

    @property
    def length(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def days(self) -> Iterator[date]:
        for offset in range(self.length):
            yield self.first_day + timedelta(days=offset)

    def sql_params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "tz": settings.TIME_ZONE}


# --- SQL helpers ----------------------------------------------------------------


class Percentile(Aggregate):
    """percentile_cont(fraction) WITHIN GROUP (ORDER BY expression); NULLs are ignored."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class Seconds(Func):
    """An interval (timestamp difference) as seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def _in_period(period: Period, column: str = "created_at") -> Q:
    return Q(**{f"{column}__gte": period.start, f"{column}__lt": period.end})


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _fetch(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- 1. AI response time ----------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Distribution of one duration: count of values, mean, median, 95th percentile."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class ResponseTimes:
    """AI answer time and time to first token, in milliseconds."""

    key: Any  # a date, a model name, or None for the whole period
    answers: int
    total: Timing
    first_token: Timing


def _timing_aggregates(column: str, prefix: str) -> dict[str, Aggregate]:
    return {
        f"{prefix}_n": Count(column),
        f"{prefix}_mean": Avg(column, output_field=FloatField()),
        f"{prefix}_p50": Percentile(column, 0.5),
        f"{prefix}_p95": Percentile(column, 0.95),
    }


def _timing(row: dict[str, Any], prefix: str) -> Timing:
    return Timing(
        count=row[f"{prefix}_n"],
        mean=row[f"{prefix}_mean"],
        p50=row[f"{prefix}_p50"],
        p95=row[f"{prefix}_p95"],
    )


def _ai_answers(period: Period) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(_in_period(period), author=ChatMessage.Author.AI)


def _answer_timings() -> dict[str, Aggregate]:
    return {
        **_timing_aggregates("ai_latency_ms", "total"),
        **_timing_aggregates("ai_first_token_ms", "first"),
    }


def _response_times(row: dict[str, Any], key: Any) -> ResponseTimes:
    return ResponseTimes(
        key=key,
        answers=row["answers"],
        total=_timing(row, "total"),
        first_token=_timing(row, "first"),
    )


def response_times(period: Period) -> ResponseTimes:
    """All AI answers of the period together."""
    row = _ai_answers(period).aggregate(answers=Count("id"), **_answer_timings())
    return _response_times(row, None)


def response_times_by_day(period: Period) -> list[ResponseTimes]:
    """One entry per local day that has AI answers, oldest first."""
    rows = (
        _ai_answers(period)
        .annotate(day=TruncDate("created_at", tzinfo=site_timezone()))
        .values("day")
        .annotate(answers=Count("id"), **_answer_timings())
        .order_by("day")
    )
    return [_response_times(row, row["day"]) for row in rows]


def response_times_by_model(period: Period) -> list[ResponseTimes]:
    """One entry per model that answered (`ai_model`; "" = no model, e.g. offline)."""
    rows = (
        _ai_answers(period)
        .values("ai_model")
        .annotate(answers=Count("id"), **_answer_timings())
        .order_by("-answers", "ai_model")
    )
    return [_response_times(row, row["ai_model"]) for row in rows]


# --- 2. Conversations and their outcome ---------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """Conversations of the period by outcome; the four outcomes partition `conversations`."""

    conversations: int
    resolved_by_ai: int
    handed_off: int
    rated_badly: int  # AI answered, no handoff, but the AI-only rating was 1 or 2
    unanswered: int  # no AI answer and no handoff in the period

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_by_ai, self.conversations)

    @property
    def handoff_rate(self) -> float | None:
        return _ratio(self.handed_off, self.conversations)

    @property
    def rated_badly_rate(self) -> float | None:
        return _ratio(self.rated_badly, self.conversations)

    @property
    def unanswered_rate(self) -> float | None:
        return _ratio(self.unanswered, self.conversations)


def _conversations_cte() -> str:
    messages, requests = _table(ChatMessage), _table(SupportRequest)
    return f"""
        conv AS (
            SELECT session_id FROM {messages}
            WHERE author = 'visitor' AND created_at >= %(start)s AND created_at < %(end)s
            UNION
            SELECT session_id FROM {requests}
            WHERE requested_at >= %(start)s AND requested_at < %(end)s
        )"""  # noqa: S608 - table names come from the models, values are parameters


def outcomes(period: Period) -> Outcomes:
    """How the conversations of the period ended (docs/metrics.md, "Conversation")."""
    messages, requests, ratings = _table(ChatMessage), _table(SupportRequest), _table(Rating)
    sql = f"""
        WITH {_conversations_cte()},
        flags AS (
            SELECT
                EXISTS (
                    SELECT 1 FROM {requests} r WHERE r.session_id = conv.session_id
                    AND r.requested_at >= %(start)s AND r.requested_at < %(end)s
                ) AS handed_off,
                EXISTS (
                    SELECT 1 FROM {messages} a WHERE a.session_id = conv.session_id
                    AND a.author = 'ai' AND a.created_at >= %(start)s AND a.created_at < %(end)s
                ) AS ai_answered,
                EXISTS (
                    SELECT 1 FROM {ratings} g WHERE g.session_id = conv.session_id
                    AND g.support_request_id IS NULL AND g.score <= 2
                ) AS rated_badly
            FROM conv
        )
        SELECT
            count(*),
            count(*) FILTER (WHERE NOT handed_off AND ai_answered AND NOT rated_badly),
            count(*) FILTER (WHERE handed_off),
            count(*) FILTER (WHERE NOT handed_off AND ai_answered AND rated_badly),
            count(*) FILTER (WHERE NOT handed_off AND NOT ai_answered)
        FROM flags
    """  # noqa: S608 - table names come from the models, values are parameters
    total, resolved, handed, bad, unanswered = _fetch(sql, period.sql_params())[0]
    return Outcomes(total, resolved, handed, bad, unanswered)


@dataclass(frozen=True)
class DayConversations:
    day: date
    conversations: int
    handed_off: int

    @property
    def handoff_rate(self) -> float | None:
        return _ratio(self.handed_off, self.conversations)


def conversations_by_day(period: Period) -> list[DayConversations]:
    """Per local day: conversations (sessions active that day) and those handed off that day."""
    messages, requests = _table(ChatMessage), _table(SupportRequest)
    sql = f"""
        WITH conv AS (
            SELECT session_id, (created_at AT TIME ZONE %(tz)s)::date AS day FROM {messages}
            WHERE author = 'visitor' AND created_at >= %(start)s AND created_at < %(end)s
            UNION
            SELECT session_id, (requested_at AT TIME ZONE %(tz)s)::date FROM {requests}
            WHERE requested_at >= %(start)s AND requested_at < %(end)s
        ),
        handed AS (
            SELECT DISTINCT session_id, (requested_at AT TIME ZONE %(tz)s)::date AS day
            FROM {requests} WHERE requested_at >= %(start)s AND requested_at < %(end)s
        )
        SELECT conv.day, count(*), count(handed.session_id)
        FROM conv LEFT JOIN handed
            ON handed.session_id = conv.session_id AND handed.day = conv.day
        GROUP BY conv.day ORDER BY conv.day
    """  # noqa: S608
    return [DayConversations(*row) for row in _fetch(sql, period.sql_params())]


# --- 3. Handoffs to operators ---------------------------------------------------------


@dataclass(frozen=True)
class Handoffs:
    """Support requests made in the period. Waits and first responses are in seconds."""

    requests: int
    by_status: dict[str, int]
    abandoned: int
    requeued: int  # put back in the queue at least once (operator gone or silent)
    waiting: Timing  # assigned_at - requested_at, over the requests an operator took
    first_response: Timing  # first_reply_at - assigned_at, see `handoffs`

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.requests)


def handoffs(period: Period) -> Handoffs:
    """Requests by `requested_at` in the period.

    A request put back in the queue keeps its first reply time while
    `assigned_at` moves to the new take; a reply older than the take says
    nothing about the current operator, so such requests are left out of
    the first-response figures.
    """
    requests = SupportRequest.objects.filter(_in_period(period, "requested_at"))
    wait = Seconds(F("assigned_at") - F("requested_at"))
    reply = Seconds(F("first_reply_at") - F("assigned_at"))
    replied = Q(first_reply_at__isnull=False, first_reply_at__gte=F("assigned_at"))
    row = requests.aggregate(
        requests=Count("id"),
        abandoned=Count("id", filter=Q(status=SupportRequest.Status.ABANDONED)),
        requeued=Count("id", filter=Q(requeue_count__gt=0)),
        wait_n=Count("assigned_at"),
        wait_mean=Avg(wait),
        wait_p50=Percentile(wait, 0.5),
        wait_p95=Percentile(wait, 0.95),
        first_n=Count("id", filter=replied),
        first_mean=Avg(reply, filter=replied),
        first_p50=Percentile(reply, 0.5, filter=replied),
        first_p95=Percentile(reply, 0.95, filter=replied),
    )
    by_status = dict.fromkeys(SupportRequest.Status.values, 0)
    for item in requests.values("status").annotate(n=Count("id")).order_by():
        by_status[item["status"]] = item["n"]
    return Handoffs(
        requests=row["requests"],
        by_status=by_status,
        abandoned=row["abandoned"],
        requeued=row["requeued"],
        waiting=_timing(row, "wait"),
        first_response=_timing(row, "first"),
    )


# --- 4. Popular topics --------------------------------------------------------------


@dataclass(frozen=True)
class TopTour:
    slug: str
    title: str
    conversations: int


@dataclass(frozen=True)
class TopFaq:
    faq_id: int
    question: str
    answers: int  # AI answers that used the entry
    conversations: int


@dataclass(frozen=True)
class TopWord:
    lexeme: str  # the russian configuration's normalised form (a stem)
    word: str  # the most frequent spelling in the messages (lower case)
    messages: int  # visitor messages containing it (ts_stat's ndoc)
    occurrences: int  # times it occurs (ts_stat's nentry)


def top_tours(period: Period, limit: int = 10) -> list[TopTour]:
    """Tours by the number of conversations about them.

    A conversation is about a tour if the visitor was on the tour's page
    (session.tour) or an AI answer of the period named it (meta.tour_slugs).
    """
    messages, sessions, tours = _table(ChatMessage), _table(ChatSession), _table(Tour)
    sql = f"""
        WITH {_conversations_cte()},
        pairs AS (
            SELECT s.id AS session_id, t.slug FROM conv
            JOIN {sessions} s ON s.id = conv.session_id
            JOIN {tours} t ON t.id = s.tour_id
            UNION
            SELECT m.session_id, slugs.slug FROM {messages} m
            CROSS JOIN LATERAL jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(m.meta -> 'tour_slugs') = 'array'
                     THEN m.meta -> 'tour_slugs' ELSE '[]'::jsonb END
            ) AS slugs(slug)
            WHERE m.author = 'ai' AND m.created_at >= %(start)s AND m.created_at < %(end)s
        )
        SELECT pairs.slug, coalesce(max(t.title), pairs.slug), count(*) AS n
        FROM pairs LEFT JOIN {tours} t ON t.slug = pairs.slug
        GROUP BY pairs.slug ORDER BY n DESC, pairs.slug LIMIT %(limit)s
    """  # noqa: S608
    rows = _fetch(sql, {**period.sql_params(), "limit": limit})
    return [TopTour(slug, title, n) for slug, title, n in rows]


def top_faq(period: Period, limit: int = 10) -> list[TopFaq]:
    """FAQ entries by the number of AI answers of the period that used them (meta.faq_ids)."""
    messages, faq = _table(ChatMessage), _table(FaqEntry)
    sql = f"""
        WITH used AS (
            SELECT DISTINCT m.id, m.session_id, ids.value::bigint AS faq_id
            FROM {messages} m
            CROSS JOIN LATERAL jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(m.meta -> 'faq_ids') = 'array'
                     THEN m.meta -> 'faq_ids' ELSE '[]'::jsonb END
            ) AS ids(value)
            WHERE m.author = 'ai' AND m.created_at >= %(start)s AND m.created_at < %(end)s
              AND ids.value ~ '^[0-9]{{1,18}}$'
        )
        SELECT used.faq_id, max(f.question), count(*) AS n, count(DISTINCT used.session_id)
        FROM used LEFT JOIN {faq} f ON f.id = used.faq_id
        GROUP BY used.faq_id ORDER BY n DESC, used.faq_id LIMIT %(limit)s
    """  # noqa: S608
    rows = _fetch(sql, {**period.sql_params(), "limit": limit})
    return [TopFaq(faq_id, question or f"#{faq_id}", n, c) for faq_id, question, n, c in rows]


# `russian` without numbers, URLs and parts of hyphenated words (migration 0002).
WORDS_CONFIG = "tatartours_words"
# Token types of the default parser that the configuration maps: the words.
WORD_TOKEN_TYPES = ("word", "asciiword", "hword", "asciihword")
# Messages read to find each lexeme's commonest spelling: the period's latest ones.
FORMS_SAMPLE = 5000


def top_words(period: Period, limit: int = 20) -> list[TopWord]:
    """The most frequent significant words of visitor messages, in Russian word forms.

    Each message goes through the `tatartours_words` configuration (the
    `russian` Snowball stemmer and stop words, words only), so "экскурсия",
    "экскурсии" and "экскурсию" are one lexeme and "и", "в", "на" none;
    the lexemes of a fuller stop-word list and of chat pleasantries
    (analytics/stopwords.py: "спасибо", "жду", "понял") are left out too.
    Counted like ts_stat (ndoc, nentry), from unnest(tsvector) so the period
    stays a bound parameter. Ranked by the number of messages containing the
    lexeme, then by occurrences, then alphabetically. The word shown is the
    lexeme's commonest lower-case spelling in the period's latest
    FORMS_SAMPLE messages.
    """
    messages = _table(ChatMessage)
    sql = f"""
        WITH msgs AS (
            SELECT id, text FROM {messages}
            WHERE author = 'visitor' AND created_at >= %(start)s AND created_at < %(end)s
        ),
        stop AS (SELECT lexeme FROM unnest(to_tsvector(%(config)s::regconfig, %(stop)s))),
        stats AS (
            SELECT v.lexeme, count(*) AS docs, sum(array_length(v.positions, 1)) AS entries
            FROM msgs CROSS JOIN LATERAL unnest(to_tsvector(%(config)s::regconfig, msgs.text)) v
            WHERE char_length(v.lexeme) > 1 AND v.lexeme NOT IN (SELECT lexeme FROM stop)
            GROUP BY v.lexeme ORDER BY docs DESC, entries DESC, v.lexeme LIMIT %(limit)s
        ),
        latest AS (SELECT text FROM msgs ORDER BY id DESC LIMIT %(sample)s),
        forms AS (
            SELECT lex.lexeme, mode() WITHIN GROUP (ORDER BY lower(t.token)) AS word
            FROM latest
            CROSS JOIN LATERAL ts_parse('default', latest.text) t
            CROSS JOIN LATERAL unnest(to_tsvector(%(config)s::regconfig, t.token)) lex
            WHERE t.tokid IN (
                SELECT tokid FROM ts_token_type('default') WHERE alias = ANY(%(types)s)
            )
            AND lex.lexeme IN (SELECT lexeme FROM stats)
            GROUP BY lex.lexeme
        )
        SELECT stats.lexeme, coalesce(forms.word, stats.lexeme), stats.docs, stats.entries
        FROM stats LEFT JOIN forms ON forms.lexeme = stats.lexeme
        ORDER BY stats.docs DESC, stats.entries DESC, stats.lexeme
    """  # noqa: S608
    params = {
        **period.sql_params(),
        "config": WORDS_CONFIG,
        "types": list(WORD_TOKEN_TYPES),
        "limit": limit,
        "sample": FORMS_SAMPLE,
        "stop": stop_words_text(),
    }
    return [TopWord(*row) for row in _fetch(sql, params)]


# --- 5. Satisfaction (CSAT) ---------------------------------------------------------


@dataclass(frozen=True)
class Csat:
    ratings: int
    average: float | None
    distribution: dict[int, int]  # score 1..5 -> ratings
    satisfied: int  # rated 4 or 5

    @property
    def satisfied_share(self) -> float | None:
        return _ratio(self.satisfied, self.ratings)


@dataclass(frozen=True)
class CsatSplit:
    all: Csat
    ai_only: Csat  # ratings of conversations with the AI only (no support request)
    operator: Csat  # ratings of operator conversations (a support request)


def _csat(ratings: QuerySet[Rating]) -> Csat:
    row = ratings.aggregate(
        n=Count("id"),
        average=Avg("score", output_field=FloatField()),
        satisfied=Count("id", filter=Q(score__gte=4)),
        **{f"s{score}": Count("id", filter=Q(score=score)) for score in range(1, 6)},
    )
    return Csat(
        ratings=row["n"],
        average=row["average"],
        distribution={score: row[f"s{score}"] for score in range(1, 6)},
        satisfied=row["satisfied"],
    )


def csat(period: Period) -> CsatSplit:
    """Ratings given in the period (Rating.created_at)."""
    ratings = Rating.objects.filter(_in_period(period))
    return CsatSplit(
        all=_csat(ratings),
        ai_only=_csat(ratings.filter(support_request__isnull=True)),
        operator=_csat(ratings.filter(support_request__isnull=False)),
    )


# --- Volume, AI quality and cost per day ------------------------------------------------


@dataclass
class DayVolume:
    day: date
    messages: dict[str, int] = field(default_factory=dict)  # author -> messages
    ai_answers: int = 0
    fallbacks: int = 0  # answered by a fallback model
    offline: int = 0  # answered by the offline answerer (knowledge base, no model)
    partial: int = 0  # the model's answer was cut off
    ai_errors: int = 0  # answers stored with an AI error (ai_error not empty)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)  # USD, summed over the answers that reported a cost

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


def volume_by_day(period: Period) -> list[DayVolume]:
    """Messages by author and AI answer details per local day, every day of the period."""
    days = {day: DayVolume(day) for day in period.days()}
    for author in ChatMessage.Author.values:
        for volume in days.values():
            volume.messages[author] = 0
    in_period = ChatMessage.objects.filter(_in_period(period)).annotate(
        day=TruncDate("created_at", tzinfo=site_timezone())
    )
    for row in in_period.values("day", "author").annotate(n=Count("id")).order_by():
        days[row["day"]].messages[row["author"]] = row["n"]
    ai = Q(author=ChatMessage.Author.AI)
    rows = (
        in_period.filter(ai)
        .values("day")
        .annotate(
            answers=Count("id"),
            fallbacks=Count("id", filter=Q(ai_fallback_used=True)),
            offline=Count("id", filter=Q(ai_source=ChatMessage.AISource.OFFLINE)),
            partial=Count("id", filter=Q(ai_source=ChatMessage.AISource.PARTIAL)),
            errors=Count("id", filter=~Q(ai_error="")),
            prompt=Sum("ai_prompt_tokens"),
            completion=Sum("ai_completion_tokens"),
            cost=Sum("ai_cost"),
        )
        .order_by()
    )
    for row in rows:
        volume = days[row["day"]]
        volume.ai_answers = row["answers"]
        volume.fallbacks = row["fallbacks"]
        volume.offline = row["offline"]
        volume.partial = row["partial"]
        volume.ai_errors = row["errors"]
        volume.prompt_tokens = row["prompt"] or 0
        volume.completion_tokens = row["completion"] or 0
        volume.cost = row["cost"] or Decimal(0)
    return list(days.values())


@dataclass(frozen=True)
class AiQuality:
    answers: int
    fallbacks: int
    offline: int
    partial: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal

    @property
    def fallback_rate(self) -> float | None:
        return _ratio(self.fallbacks, self.answers)

    @property
    def offline_rate(self) -> float | None:
        return _ratio(self.offline, self.answers)


def ai_quality(days: list[DayVolume]) -> AiQuality:
    """Totals of the per-day AI figures."""
    return AiQuality(
        answers=sum(d.ai_answers for d in days),
        fallbacks=sum(d.fallbacks for d in days),
        offline=sum(d.offline for d in days),
        partial=sum(d.partial for d in days),
        errors=sum(d.ai_errors for d in days),
        prompt_tokens=sum(d.prompt_tokens for d in days),
        completion_tokens=sum(d.completion_tokens for d in days),
        cost=sum((d.cost for d in days), Decimal(0)),
    )


# --- Refusals (rate limits and moderation) -------------------------------------------------


REFUSAL_NAMES = ("rate_limited", "moderated")


def refusals_by_day(period: Period) -> dict[date, dict[str, int]]:
    """Refused visitor frames per local day and code, every day of the period."""
    from analytics.counters import daily_counts

    stored = daily_counts(period.first_day, period.last_day, REFUSAL_NAMES)
    return {
        day: {name: stored.get(day, {}).get(name, 0) for name in REFUSAL_NAMES}
        for day in period.days()
    }
