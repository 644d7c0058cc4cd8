"""Demo traffic: a month of realistic Russian conversations for a development database.

Every conversation goes through the real actions (register, post a visitor
message, store an AI answer, request support, take the chat, reply, close,
rate, leave the queue), with their events collected and dropped instead of
published; then its rows are moved back to the instant the script says,
because the actions stamp "now". The mix: AI-only conversations (mostly
rated well, some badly), chats handed to operators (waits from seconds to
minutes), requests abandoned in the queue, a few messages the AI never
answered, and daily refusal counts. Demo sessions carry DEMO_USER_AGENT, so
they can be found and replaced (`--reset`).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from ai.types import AIAnswer
from analytics.demo_script import (
    COMMENTS_BAD,
    COMMENTS_GOOD,
    EXCHANGES,
    HANDOFF_QUESTIONS,
    OPERATOR_REPLIES,
    UNANSWERED,
    VISITOR_FOLLOW_UPS,
    Exchange,
)
from analytics.metrics import site_timezone
from analytics.models import DailyCounter
from chat import actions as chat_actions
from chat.models import ChatMessage, ChatSession, Rating
from chat.publish import collecting
from support.models import OperatorProfile, SupportRequest
from tours.models import FaqEntry, Tour

DEMO_USER_AGENT = "tatartours-demo-traffic/1.0"
OPERATORS_GROUP = "Операторы"
DEMO_OPERATORS = [("demo-aliya", "Алия"), ("demo-ruslan", "Руслан"), ("demo-marina", "Марина")]
PRIMARY_MODEL = "openai/gpt-4"
FALLBACK_MODEL = "meta-llama/llama-3.1-8b-instruct"
# USD per 1000 tokens (prompt, completion): the order of magnitude of OpenRouter's prices.
PRICES = {
    PRIMARY_MODEL: (Decimal("0.03"), Decimal("0.06")),
    FALLBACK_MODEL: (Decimal("0.00002"), Decimal("0.00005")),
}


@dataclass
class Timeline:
    """Rows created by the actions, and the instants they should carry."""

    session: ChatSession
    messages: list[tuple[int, datetime]] = field(default_factory=list)
    requests: dict[int, dict[str, datetime]] = field(default_factory=dict)
    ratings: list[tuple[int, datetime]] = field(default_factory=list)
    last: datetime | None = None

    def backdate(self) -> None:
        for pk, at in self.messages:
            ChatMessage.objects.filter(pk=pk).update(created_at=at)
        for pk, times in self.requests.items():
            SupportRequest.objects.filter(pk=pk).update(**times)
        for pk, at in self.ratings:
            Rating.objects.filter(pk=pk).update(created_at=at)
        start = self.messages[0][1] if self.messages else self.last
        ChatSession.objects.filter(pk=self.session.pk).update(
            created_at=start, last_activity_at=self.last or start
        )


@dataclass
class Result:
    conversations: int = 0
    messages: int = 0
    handoffs: int = 0
    ratings: int = 0


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tours = dict(Tour.objects.values_list("slug", "pk"))
        self.faq = dict(FaqEntry.objects.values_list("question", "pk"))
        self.operators = ensure_demo_operators()
        self.result = Result()

    # --- one conversation -------------------------------------------------------------

    def _start(self, at: datetime) -> Timeline:
        tour = self.rng.choice([None, None, *self.tours])
        registration = chat_actions.register_visitor(
            token=None,
            tour_slug=tour,
            user_id=None,
            client_ip=f"198.51.100.{self.rng.randint(1, 254)}",
            user_agent=DEMO_USER_AGENT,
        )
        return Timeline(registration.session, last=at)

    def _visitor(self, line: Timeline, text: str, at: datetime) -> int:
        posted = chat_actions.post_visitor_message(
            session_pk=line.session.pk, client_id=str(uuid.uuid4()), text=text
        )
        line.messages.append((posted.message.pk, at))
        line.last = at
        self.result.messages += 1
        return posted.message.pk

    def _ai(self, line: Timeline, reply_to: int, exchange: Exchange, at: datetime) -> datetime:
        answer = self._answer(exchange)
        stored = chat_actions.store_ai_answer(
            session_pk=line.session.pk, reply_to=reply_to, answer=answer
        )
        done = at + timedelta(milliseconds=answer.latency_ms or 300)
        if stored is not None:
            line.messages.append((stored.pk, done))
            line.last = done
            self.result.messages += 1
        return done

    def _answer(self, exchange: Exchange) -> AIAnswer:
        meta: dict[str, Any] = {
            "faq_ids": [self.faq[exchange.faq]] if exchange.faq in self.faq else [],
            "tour_slugs": [slug for slug in exchange.tours if slug in self.tours],
            "tools": ["search_tours"] if exchange.tours else [],
        }
        roll = self.rng.random()
        if roll < 0.05:  # the model was down: the knowledge base answered
            return AIAnswer(
                text=exchange.answer,
                source="offline",
                latency_ms=int(self.rng.uniform(15_000, 16_500)),
                error=self.rng.choice(["first_token_timeout", "upstream_503"]),
                meta=meta,
            )
        fallback = roll < 0.15
        model = FALLBACK_MODEL if fallback else PRIMARY_MODEL
        # Log-normal times: median ~0.8 s to the first token, ~3 s in total.
        first = int(math.exp(self.rng.gauss(math.log(800), 0.45)) + (1500 if fallback else 0))
        total = first + int(math.exp(self.rng.gauss(math.log(2200), 0.55)))
        prompt = self.rng.randint(700, 1600)
        completion = max(20, len(exchange.answer) // 3 + self.rng.randint(-10, 40))
        price_in, price_out = PRICES[model]
        cost = (price_in * prompt + price_out * completion) / 1000
        partial = roll > 0.99
        return AIAnswer(
            text=exchange.answer,
            source="partial" if partial else "model",
            model=model,
            generation_id=f"gen-demo-{uuid.uuid4().hex[:12]}",
            latency_ms=total,
            first_token_ms=first,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=cost.quantize(Decimal("0.00000001")),
            fallback_used=fallback,
            error="stream_cut" if partial else "",
            meta=meta,
        )

    def _ask_ai(self, line: Timeline, at: datetime, exchanges: int) -> datetime:
        for exchange in self.rng.sample(EXCHANGES, exchanges):
            asked = self._visitor(line, exchange.question, at)
            at = self._ai(line, asked, exchange, at) + timedelta(seconds=self.rng.randint(20, 150))
        return at

    def _rate(self, line: Timeline, score: int, at: datetime, good: bool) -> None:
        comment = self.rng.choice(COMMENTS_GOOD if good else COMMENTS_BAD)
        rating = chat_actions.rate_conversation(
            session_pk=line.session.pk, score=score, comment=comment
        )
        line.ratings.append((rating.pk, at))
        line.last = at
        self.result.ratings += 1

    def ai_only(self, at: datetime, *, badly: bool) -> Timeline:
        line = self._start(at)
        at = self._ask_ai(line, at, self.rng.choice([1, 1, 2, 2, 3]))
        if badly:
            self._rate(line, self.rng.choice([1, 2, 2]), at, good=False)
        elif self.rng.random() < 0.45:
            self._rate(line, self.rng.choice([5, 5, 5, 4, 4, 3]), at, good=True)
        return line

    def handed_off(self, at: datetime, *, abandon: bool) -> Timeline:
        from support import actions as support_actions

        line = self._start(at)
        if self.rng.random() < 0.7:
            at = self._ask_ai(line, at, 1)
        question, reason = self.rng.choice(HANDOFF_QUESTIONS)
        self._visitor(line, question, at)
        requested = at + timedelta(seconds=self.rng.randint(5, 40))
        support_actions.request_support(session_pk=line.session.pk, reason=reason)
        request = SupportRequest.objects.filter(session=line.session).latest("pk")
        self.result.handoffs += 1
        times: dict[str, datetime] = {"requested_at": requested, "queued_at": requested}
        line.requests[request.pk] = times
        line.last = requested
        # Waits: most chats are taken within a minute or two, a few wait long.
        wait = int(math.exp(self.rng.gauss(math.log(55), 0.9)))
        if abandon:
            support_actions.end_support_by_visitor(session_pk=line.session.pk)
            times["closed_at"] = requested + timedelta(seconds=wait + self.rng.randint(60, 400))
            self._notice(line, times["closed_at"])
            line.last = times["closed_at"]
            return line
        operator, name = self.rng.choice(self.operators)
        sid = line.session.public_id
        support_actions.join_support_chat(operator_id=operator.pk, session_id=sid)
        times["assigned_at"] = requested + timedelta(seconds=wait)
        self._notice(line, times["assigned_at"])
        at = times["assigned_at"] + timedelta(seconds=self.rng.randint(8, 90))
        for i in range(self.rng.randint(2, 3)):
            text = (
                OPERATOR_REPLIES[0].format(name=name)
                if i == 0
                else self.rng.choice(OPERATOR_REPLIES[1:])
            )
            posted = support_actions.post_operator_message(
                operator_id=operator.pk, session_id=sid, client_id=str(uuid.uuid4()), text=text
            )
            line.messages.append((posted.message.pk, at))
            self.result.messages += 1
            if i == 0:
                times["first_reply_at"] = at
            at += timedelta(seconds=self.rng.randint(30, 120))
            self._visitor(line, self.rng.choice(VISITOR_FOLLOW_UPS), at)
            at += timedelta(seconds=self.rng.randint(20, 90))
        support_actions.close_chat(operator_id=operator.pk, session_id=sid)
        times["closed_at"] = at
        self._notice(line, at)
        line.last = at
        if self.rng.random() < 0.6:
            score = self.rng.choice([5, 5, 5, 4, 4, 3, 2])
            self._rate(line, score, at + timedelta(seconds=20), good=score >= 4)
        return line

    def _notice(self, line: Timeline, at: datetime) -> None:
        """The system message the last support action stored ("Алия подключается…"), at `at`."""
        latest = (
            ChatMessage.objects.filter(session=line.session, author=ChatMessage.Author.SYSTEM)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if latest is not None and all(pk != latest for pk, _ in line.messages):
            line.messages.append((latest, at))

    def unanswered(self, at: datetime) -> Timeline:
        line = self._start(at)
        self._visitor(line, self.rng.choice(UNANSWERED), at)
        return line

    def conversation(self, at: datetime) -> None:
        roll = self.rng.random()
        # Collect (and drop) the events: the atomic block commits inside the collector.
        with collecting(), transaction.atomic():
            if roll < 0.70:
                line = self.ai_only(at, badly=False)
            elif roll < 0.76:
                line = self.ai_only(at, badly=True)
            elif roll < 0.92:
                line = self.handed_off(at, abandon=False)
            elif roll < 0.96:
                line = self.handed_off(at, abandon=True)
            else:
                line = self.unanswered(at)
            line.backdate()
        self.result.conversations += 1


def ensure_demo_operators() -> list[tuple[Any, str]]:
    """Demo operators (no password: they cannot log in), in the operators group."""
    User = get_user_model()
    group = Group.objects.filter(name=OPERATORS_GROUP).first()
    operators = []
    for username, name in DEMO_OPERATORS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": name, "is_staff": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if group is not None:
            user.groups.add(group)
        OperatorProfile.objects.get_or_create(user=user, defaults={"display_name": name})
        operators.append((user, name))
    return operators


def demo_sessions() -> Any:
    return ChatSession.objects.filter(user_agent=DEMO_USER_AGENT)


def delete_demo_traffic() -> int:
    deleted, _ = demo_sessions().delete()
    return deleted


def _instants(rng: random.Random, day: date, count: int, latest: datetime) -> list[datetime]:
    """`count` instants of `day`, mostly in the daytime, none after `latest`."""
    tz = site_timezone()
    result = []
    for _ in range(count):
        hour = min(23, max(0, int(rng.gauss(15, 4))))
        at = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=tz)
        if at < latest:
            result.append(at)
    return sorted(result)


def add_demo_refusals(rng: random.Random, days: Sequence[date]) -> None:
    """Some rate-limited and moderated counts per day; days with real counts are kept."""
    rows = [
        (day, name, rng.randint(0, high))
        for day in days
        for name, high in (("rate_limited", 6), ("moderated", 3))
    ]
    table = connection.ops.quote_name(DailyCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (day, name, count) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (day, name) DO NOTHING",
            rows,
        )


def generate(days: int = 30, seed: int = 7, per_day: tuple[int, int] = (6, 18)) -> Result:
    """Conversations on each of the last `days` days (today up to now)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    generator = Generator(rng)
    now = timezone.now()
    today = timezone.localdate()
    all_days = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    for day in all_days:
        weekend = day.isoweekday() >= 6
        low, high = per_day
        count = rng.randint(low, high) + (4 if weekend else 0)
        for at in _instants(rng, day, count, latest=now - timedelta(minutes=30)):
            generator.conversation(at)
    add_demo_refusals(rng, all_days)
    return generator.result
