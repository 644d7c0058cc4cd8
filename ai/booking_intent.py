"""A clear booking request in plain Russian, for the offline answerer.

"Хочу забронировать на двоих 21 декабря" on a tour page, or "Забронируйте
Свияжск 14 марта на 3 человек": a booking word, a number of people and a
tour with its date (named, or the page the visitor is on). Only then does
the offline answerer propose a booking card; anything less clear gets the
usual answer. Rules over word forms, no model: it must work with the AI down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from ai.prompt import dates, rub
from ai.russian import MONTHS, TOPICS, places_in, words
from ai.types import TourFacts
from tours import booking as bookings
from tours.models import Tour

# Collective and cardinal numerals as people are counted: "на двоих", "нас трое".
_PEOPLE_WORDS = {
    "одного": 1,
    "один": 1,
    "одна": 1,
    "двоих": 2,
    "двое": 2,
    "два": 2,
    "две": 2,
    "двух": 2,
    "троих": 3,
    "трое": 3,
    "три": 3,
    "трех": 3,
    "четверых": 4,
    "четверо": 4,
    "четыре": 4,
    "четырех": 4,
    "пятерых": 5,
    "пятеро": 5,
    "пять": 5,
    "пяти": 5,
    "шестерых": 6,
    "шестеро": 6,
    "шесть": 6,
    "шести": 6,
    "семерых": 7,
    "семеро": 7,
    "семь": 7,
    "семи": 7,
}
# Words that make a number a head count: "2 человека", "трое взрослых".
_PEOPLE_NOUN = re.compile(
    r"^(человек\w*|чел|люд\w*|взросл\w*|участник\w*|персон\w*|мест(а|о)?|гост\w*|туристов)$"
)
# Collective numerals count people on their own ("на двоих", "нас трое").
_COLLECTIVE = re.compile(
    r"^(двоих|двое|троих|трое|четверых|четверо|пятерых|пятеро|шестерых|шестеро|семерых|семеро)$"
)
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\b")


@dataclass(frozen=True)
class BookingAsk:
    participants: int
    day: date | None  # the start date the visitor named, if any


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _PEOPLE_WORDS.get(word)


def participants_in(tokens: list[str]) -> int | None:
    for index, word in enumerate(tokens):
        count = _number(word)
        if count is None:
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        before = tokens[index - 1] if index > 0 else ""
        if _PEOPLE_NOUN.match(after) or _COLLECTIVE.match(word):
            return count
        if before in {"на", "для", "нас"} and not word.isdigit() and not _month(after):
            return count  # "на одного", "нас двое"
    return None


def _month(word: str) -> int | None:
    for pattern, number in MONTHS:
        if pattern.match(word):
            return number
    return None


def _coming(day: int, month: int, today: date) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def day_in(text: str, tokens: list[str], today: date) -> date | None:
    """ "21 декабря", "21-го декабря", "21.12": its coming occurrence."""
    for index, word in enumerate(tokens[:-1]):
        number = re.match(r"^(\d{1,2})(-?го)?$", word)
        month = _month(tokens[index + 1])
        if number and month:
            return _coming(int(number.group(1)), month, today)
    numeric = _DATE_NUMERIC.search(text)
    if numeric:
        day, month = int(numeric.group(1)), int(numeric.group(2))
        if 1 <= month <= 12:
            return _coming(day, month, today)
    return None


def read_booking_ask(text: str, today: date | None = None) -> BookingAsk | None:
    """A booking word and a head count in `text`; None if it is not a booking request."""
    tokens = words(text)
    if not any(TOPICS["booking"].match(w) for w in tokens):
        return None
    participants = participants_in(tokens)
    if participants is None:
        return None
    return BookingAsk(participants, day_in(text, tokens, today or timezone.localdate()))


def proposal_for(text: str, page_tour: TourFacts | None) -> dict[str, Any] | None:
    """The card the offline answerer offers for `text`: {tour, participants, title, ...}.

    The tour is the page's (when the visitor names no other date), or the
    one bookable tour starting on the date named (narrowed by a place the
    text names). Ambiguous, unknown or sold out: None.
    """
    ask = read_booking_ask(text)
    if ask is None:
        return None
    tours = bookings.bookable_tours()
    tour: Tour | None = None
    if page_tour is not None and (ask.day is None or ask.day == page_tour.start_date):
        tour = tours.filter(slug=page_tour.slug).first()
    elif ask.day is not None:
        on_day = list(tours.filter(start_date=ask.day)[:10])
        named = places_in(text, sorted({t.place for t in on_day}))
        if named:
            on_day = [t for t in on_day if t.place in named]
        tour = on_day[0] if len(on_day) == 1 else None
    if tour is None:
        return None
    try:
        bookings.check_bookable(tour, ask.participants)
    except bookings.BookingError:
        return None
    return {
        "tour": tour.slug,
        "participants": ask.participants,
        "title": tour.title,
        "start_date": tour.start_date,
        "end_date": tour.end_date,
        "total_price": bookings.total_price(tour, ask.participants),
    }


def card_offer(proposal: dict[str, Any]) -> str:
    """What the offline answer says above the card it offers."""
    return _(
        "I have prepared a booking card: “%(title)s”, %(dates)s, people: %(people)d, "
        "%(total)s in total. Check it and press “Confirm” in the card; nothing is booked "
        "until you do."
    ) % {
        "title": proposal["title"],
        "dates": dates(proposal["start_date"], proposal["end_date"]),
        "people": proposal["participants"],
        "total": rub(proposal["total_price"]),
    }


def answer_meta(proposal: dict[str, Any] | None) -> dict[str, Any]:
    """The answer's meta entry that makes `store_ai_answer` show the card."""
    if proposal is None:
        return {}
    card = {"tour": proposal["tour"], "participants": proposal["participants"]}
    return {"booking_proposals": [card]}
