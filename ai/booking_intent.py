"""A clear booking request in plain Russian, for the offline answerer.

"Хочу забронировать на двоих 21 декабря" on a tour page, or "Забронируйте
Свияжск 14 марта на 3 человек": a booking word, a number of people and a
tour with its date (named, or the page the visitor is on). Only then does
the offline answerer propose a booking card; anything less clear gets the
usual answer. Rules over word forms, no model: it must work with the AI down.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ai.calendar import periods_in
from ai.facets import group_size, people_booked, places_count
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
    participants = group_size(text) or places_count(text) or people_booked(text)
    if participants is None and _ONE_PERSON.search(text.lower()):
        participants = 1
    if participants is None:
        return None
    return BookingAsk(participants, day_in(text, today or timezone.localdate()))


def _said(text: str) -> set[str]:
    return {form for word in words(text) for form in lemmas(word)}


def _names_place(said: set[str], place: str) -> bool:
    """Every word of the tour's place is among the lemmas `said` (`_said`)."""
    return all(said & lemmas(part) for part in words(place))


@dataclass(frozen=True)
class Proposal:
    """What the offline answerer makes of a booking request.

    `card` is the card to offer ({tour, participants, title, ...}), or None;
    `unclear` says why there is none when the request itself was clear
    (a booking word and a head count) but named no single tour: the answer
    then asks for the tour's date rather than repeating how to book.
    """

    card: dict[str, Any] | None = None
    unclear: bool = False


def propose(text: str, page_tour: TourFacts | None, named: Sequence[str] = ()) -> Proposal:
    """The card the offline answerer offers for `text`, if any (see `Proposal`).

    The tour is the page's (when the visitor names no other date); else the
    one bookable tour starting on the date named, or, with no date, the one
    bookable tour at the place named ("забронируйте Свияжск на двоих" when
    one tour goes there; a place several go to needs the date). `named`: the
    slugs of the tours the question names by an alias ("гастротур"), which
    narrow either. Unknown or sold out: no card.
    """
    ask = read_booking_ask(text)
    if ask is None:
        return Proposal()
    tours = bookings.bookable_tours()
    said = _said(text)
    candidates: list[Tour]
    if page_tour is not None and (ask.day is None or ask.day == page_tour.start_date):
        candidates = list(tours.filter(slug=page_tour.slug))
    elif ask.day is not None:
        candidates = list(tours.filter(start_date=ask.day)[:10])
        narrowed = [t for t in candidates if t.slug in named] or [
            t for t in candidates if _names_place(said, t.place)
        ]
        if narrowed:
            candidates = narrowed
    else:
        candidates = list(tours.filter(slug__in=named)) if named else []
        if not candidates:
            candidates = [t for t in tours if _names_place(said, t.place)]
    if len(candidates) != 1:
        return Proposal(unclear=True)
    tour = candidates[0]
    try:
        bookings.check_bookable(tour, ask.participants)
    except bookings.BookingError:
        return Proposal()
    return Proposal(
        card={
            "tour": tour.slug,
            "participants": ask.participants,
            "title": tour.title,
            "start_date": tour.start_date,
            "end_date": tour.end_date,
            "total_price": bookings.total_price(tour, ask.participants),
        }
    )


def which_tour(first_date: date | None) -> str:
    """What the offline answer says above the tours when a booking request named none."""
    if first_date is None:
        return _("To prepare a booking card, name the tour and its date.")
    return _(
        "To prepare a booking card, tell me the date of the tour you want, for example "
        "“on %(day)s”."
    ) % {"day": date_format(first_date, "j E")}


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
