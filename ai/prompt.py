"""The messages sent to the model: system prompt, site data, conversation.

The wording lives in templates (ai/prompts/*.txt), rendered with a Django
template engine of their own (plain text: no autoescaping). Facts about
tours are formatted here from database values only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.utils import timezone, translation
from django.utils.formats import date_format

from ai.knowledge import Knowledge
from ai.types import AIRequest, HistoryItem, TourFacts

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"


@cache
def _engine() -> Engine:
    return Engine(dirs=[str(PROMPTS_DIR)], autoescape=False)


def render(name: str, context: dict[str, Any]) -> str:
    return _engine().get_template(name).render(Context(context)).strip()


def rub(value: Decimal | float | int) -> str:
    """2500 -> "2 500 ₽" (a no-break space between thousands, as Russian writes it)."""
    amount = Decimal(str(value))
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return text.replace(",", "\u00a0").replace(".", ",") + "\u00a0₽"


def day(value: date | str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    with translation.override("ru"):
        return date_format(value, "j E Y")


def dates(start: date | str, end: date | str) -> str:
    return day(start) if start == end else f"{day(start)} — {day(end)}"


def _tour_context(tour: TourFacts) -> dict[str, Any]:
    return {
        "title": tour.title,
        "slug": tour.slug,
        "place": tour.place,
        "dates": dates(tour.start_date, tour.end_date),
        "duration_hours": tour.duration_hours,
        "price": rub(tour.price_per_person),
        "free_places": tour.free_places,
        "short_description": tour.short_description,
    }


def _listed_tour(tour: dict[str, Any]) -> dict[str, Any]:
    return {
        **tour,
        "dates": dates(tour["start_date"], tour["end_date"]),
        "price": rub(tour["price_per_person"]),
    }


def system_prompt(*, tools: bool) -> str:
    return render(
        "system.txt",
        {
            "site_title": settings.AI_SITE_TITLE,
            "site_url": settings.AI_SITE_URL,
            "today": day(timezone.localdate()),
            "tools": tools,
        },
    )


def site_data(request: AIRequest, found: Knowledge, *, enrich_tours: bool) -> str:
    return render(
        "site_data.txt",
        {
            "tour": _tour_context(request.tour) if request.tour else None,
            "faq": found.faq,
            "tours": [_listed_tour(t) for t in found.tours],
            "show_no_tours": enrich_tours and found.reading.about_tours,
        },
    )


def _history_message(item: HistoryItem) -> dict[str, Any]:
    text = item.text
    if item.author == "operator":
        # The model should know a person said it, not itself.
        text = f"(оператор) {text}"
    elif item.to_operator:
        # Written to the operator, who handled it: not a question for the model.
        text = f"(оператору) {text}"
    return {"role": item.role, "content": text}


def build_messages(request: AIRequest, found: Knowledge, *, tools: bool) -> list[dict[str, Any]]:
    """System prompt, site data (marked as data), then the last messages of the chat."""
    return [
        {"role": "system", "content": system_prompt(tools=tools)},
        {"role": "system", "content": site_data(request, found, enrich_tours=not tools)},
        *(_history_message(item) for item in request.history),
    ]


def pending_question(request: AIRequest) -> str:
    """The visitor's messages waiting for this answer (several if they typed fast), joined.

    Only what was addressed to the AI: after an operator conversation, the
    messages the operator handled are not asked again.
    """
    flagged = [item.text for item in request.history if item.pending]
    if flagged or any(item.to_operator for item in request.history):
        return "\n".join(flagged)
    pending: list[str] = []  # A request built without the flags: the trailing ones.
    for item in reversed(request.history):
        if item.role != "user":
            break
        pending.append(item.text)
    return "\n".join(reversed(pending))
