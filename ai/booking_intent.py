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

from ai.calendar import periods_in
from ai.facets import group_size
from ai.prompt import dates, rub
from ai.russian import lemmas, words
from ai.types import TourFacts
from tours import booking as bookings
from tours.models import Tour

# A word that asks to book: "забронировать", "бронь", "запишите", "резерв".
_BOOKING_WORD = re.compile(r"^(за)?брон\w*|^резерв\w*|^запиш\w*|^записат\w*")
# In a booking request "на одного" is one person; in a price question it is
# "per person", which is why the shared group-size reading leaves it out.
_ONE_PERSON = re.compile(r"\b(на|для)\s+(одного|одну|себя)\b|\bодно\s+место\b")


@dataclass(frozen=True)
class BookingAsk:
    participants: int
    day: date | None  # the start date the visitor named, if any


def day_in(text: str, today: date) -> date | None:
    """ "21 декабря", "21.12": the one day the text names, through ai.calendar."""
    for period in periods_in(text, today):
        if period.kind == "day" and len(period.spans) == 1:
            first, last = period.spans[0]
            if first == last:
                return first
    return None


def read_booking_ask(text: str, today: date | None = None) -> BookingAsk | None:
    """A booking word and a head count in `text`; None if it is not a booking request.

    The head count is the same reading the retrieval uses for group sizes
    (ai.facets.group_size), so "на двоих", "нас трое" and "2 взрослых и ребёнок"
    count the same in both places.
    """
    if not any(_BOOKING_WORD.match(w) for w in words(text)):
        return None
    participants = group_size(text)
    if participants is None and _ONE_PERSON.search(text.lower()):
        participants = 1
    if participants is None:
        return None
    return BookingAsk(participants, day_in(text, today or timezone.localdate()))


def _names_place(text: str, place: str) -> bool:
    said = {form for word in words(text) for form in lemmas(word)}
    return all(said & lemmas(part) for part in words(place))


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
        named = [t for t in on_day if _names_place(text, t.place)]
        if named:
            on_day = named
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
