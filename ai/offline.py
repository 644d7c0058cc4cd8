"""The answer when no model can give one: from the knowledge base, never empty.

Used without OPENROUTER_API_KEY, when the session's token budget is spent,
and when every model failed. It finds FAQ entries and tours by full-text
search and word forms, says plainly that this is an automatic answer, and
offers an operator. Stored with source "offline" so metrics tell it apart.
"""

from __future__ import annotations

import enum
import time
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from ai import booking_intent, knowledge
from ai.client import OnText
from ai.prompt import dates, pending_question, rub
from ai.types import AIAnswer, AIRequest, TourFacts

FAQ_SHOWN = 2
TOURS_SHOWN = 5


class Reason(enum.Enum):
    NOT_CONFIGURED = "not_configured"
    BUDGET = "token_budget"
    UNAVAILABLE = "unavailable"


def _intro(reason: Reason) -> str:
    if reason is Reason.BUDGET:
        return _(
            "This is an automatic answer from our knowledge base: the AI assistant's "
            "limit for this chat has been reached."
        )
    return _(
        "This is an automatic answer from our knowledge base: the AI assistant is not "
        "available right now."
    )


def _tour_line(tour: dict[str, Any]) -> str:
    return _(
        "• “%(title)s” — %(place)s, %(dates)s, %(price)s per person, free places: %(free)s"
    ) % {
        "title": tour["title"],
        "place": tour["place"],
        "dates": dates(tour["start_date"], tour["end_date"]),
        "price": rub(tour["price_per_person"]),
        "free": tour["free_places"],
    }


def _current_tour(tour: TourFacts) -> str:
    return _("The tour “%(title)s”: %(dates)s, %(price)s per person, free places: %(free)s.") % {
        "title": tour.title,
        "dates": dates(tour.start_date, tour.end_date),
        "price": rub(tour.price_per_person),
        "free": tour.free_places,
    }


def compose(request: AIRequest, found: knowledge.Knowledge, reason: Reason) -> str:
    parts = [_intro(reason)]
    reading = found.reading
    asks_about_this_tour = bool(reading.topics & {"price", "places", "dates", "booking"})
    if request.tour is not None and (asks_about_this_tour or not (found.faq or found.tours)):
        parts.append(_current_tour(request.tour))
    if found.faq:
        shown = [f"«{hit.question}»\n{hit.answer}" for hit in found.faq[:FAQ_SHOWN]]
        parts.append(_("Perhaps this helps:") + "\n\n" + "\n\n".join(shown))
    tours = [t for t in found.tours if not request.tour or t["slug"] != request.tour.slug]
    if tours:
        lines = [_tour_line(t) for t in tours[:TOURS_SHOWN]]
        parts.append(_("Tours that match your question:") + "\n" + "\n".join(lines))
    if len(parts) == 1:
        parts.append(_("I could not find an answer to this question in the knowledge base."))
    parts.append(
        _("To talk to a person, write “call an operator” or press the “Call an operator” button.")
    )
    return "\n\n".join(parts)


async def answer(
    request: AIRequest,
    *,
    on_text: OnText,
    reason: Reason,
    started: float | None = None,
    error: str = "",
    fallback_used: bool = False,
    meta: dict[str, Any] | None = None,
) -> AIAnswer:
    started = started if started is not None else time.monotonic()
    question = pending_question(request)
    found = await database_sync_to_async(knowledge.gather)(
        question, with_tours=True, faq_limit=FAQ_SHOWN
    )
    text = compose(request, found, reason)
    # A clear booking request (tour, date, people): offer the confirmation card.
    proposal = await database_sync_to_async(booking_intent.proposal_for)(question, request.tour)
    if proposal is not None:
        text = booking_intent.card_offer(proposal) + "\n\n" + text
    await on_text(text)
    elapsed = int((time.monotonic() - started) * 1000)
    tour_slugs = ([request.tour.slug] if request.tour else []) + found.tour_slugs
    return AIAnswer(
        text=text,
        source="offline",
        latency_ms=elapsed,
        first_token_ms=elapsed,
        fallback_used=fallback_used,
        error=error or reason.value,
        meta={
            **(meta or {}),
            "offline_reason": reason.value,
            "faq_ids": found.faq_ids,
            "tour_slugs": list(dict.fromkeys(tour_slugs)),
            **booking_intent.answer_meta(proposal),
        },
    )
