"""The messages sent to the model: system prompt, site data, conversation.

The wording lives in templates (ai/prompts/*.txt), rendered with a Django
template engine of their own (plain text: no autoescaping). Facts about
tours are formatted here from database values only; nothing of the site
is written into the templates: the places come from the catalogue, the
button's label from the widget's own catalogue of strings, the calendar
(weekday, the coming weekend and public holidays) from ai/calendar.py.

The system prompt is the same for every answer of a day: it is rendered
once per (day, tools, places), and the places come from the process's copy
of the catalogue (`ai.retrieval.knowledge_base`, read again when a tour
changes), so building a prompt costs no database hop and no template
rendering on the hot path.
"""

from __future__ import annotations

import gettext as gettext_module
from datetime import date, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from channels.db import database_sync_to_async
from django.apps import apps
from django.conf import settings
from django.template import Context, Engine
from django.utils import timezone, translation
from django.utils.formats import date_format

from ai.calendar import upcoming_holidays
from ai.knowledge import Knowledge
from ai.retrieval import Catalogue, cached_knowledge_base, forget_knowledge_base, knowledge_base
from ai.types import AIRequest, HistoryItem, TourFacts

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
PROMPT_LANGUAGE = "ru"
MAX_PLACES = 20
HOLIDAY_HORIZON_DAYS = 90


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


@cache
def widget_text(msgid: str, language: str = PROMPT_LANGUAGE) -> str:
    """A string as the widget shows it (its djangojs catalogue), e.g. a button's label."""
    localedir = Path(apps.get_app_config("chat").path) / "locale"
    catalogue = gettext_module.translation(
        "djangojs", localedir=str(localedir), languages=[language], fallback=True
    )
    return catalogue.gettext(msgid)


def coming_weekend(today: date) -> tuple[date, date]:
    """This weekend (today if it is Saturday or Sunday), else the next one."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    if today.weekday() == 6:
        saturday = today - timedelta(days=1)
    return saturday, saturday + timedelta(days=1)


def calendar_context(today: date) -> dict[str, Any]:
    with translation.override(PROMPT_LANGUAGE):
        weekday = date_format(today, "l").lower()
    holidays = [
        {
            "label": period.label,
            "dates": ", ".join(dates(first, last) for first, last in period.spans),
        }
        for period in upcoming_holidays(today, days=HOLIDAY_HORIZON_DAYS)
    ]
    return {
        "today": day(today),
        "weekday": weekday,
        "weekend": dates(*coming_weekend(today)),
        "holidays": holidays,
    }


def places_of(catalogue: Catalogue) -> tuple[str, ...]:
    """The places of the catalogue's tours (published, upcoming), as the prompt lists them."""
    return tuple(sorted({p.strip() for p in catalogue.places if p.strip()})[:MAX_PLACES])


async def catalogue_places(stamp: str | None = None) -> tuple[str, ...]:
    """The places of upcoming published tours, from the process's knowledge base.

    No DB hop when the process holds the knowledge base of `stamp` (the
    answer's own search has just made sure of it); otherwise one.
    """
    today = timezone.localdate()
    base = cached_knowledge_base(today, stamp)
    if base is None:
        base = await database_sync_to_async(knowledge_base)(today, stamp)
    return places_of(base.catalogue)


def forget_catalogue_places() -> None:
    """Read the catalogue again on the next prompt (tests; after rebuilding the database)."""
    forget_knowledge_base()


def system_prompt(*, tools: bool, places: tuple[str, ...] = ()) -> str:
    return _system_prompt(
        timezone.localdate(), tools, places, settings.AI_SITE_TITLE, settings.AI_SITE_URL
    )


@lru_cache(maxsize=16)
def _system_prompt(
    today: date, tools: bool, places: tuple[str, ...], site_title: str, site_url: str
) -> str:
    return render(
        "system.txt",
        {
            "site_title": site_title,
            "site_url": site_url,
            **calendar_context(today),
            "places": places,
            "call_button": widget_text("Call an operator"),
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


def build_messages(
    request: AIRequest, found: Knowledge, *, tools: bool, places: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """System prompt, site data (marked as data), then the last messages of the chat."""
    return [
        {"role": "system", "content": system_prompt(tools=tools, places=places)},
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
