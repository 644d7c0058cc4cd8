"""Read-only views of the catalogue for the AI: tours, a visitor's bookings, policy.

Plain sync ORM functions returning JSON-able dicts; the async side calls
each through `database_sync_to_async`, one short hop per call. Only
published tours are ever shown, and bookings only to their own user.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import F, QuerySet
from django.utils import timezone

from ai.russian import place_stem
from tours.models import Booking, Tour

MAX_TOURS = 8


@dataclass(frozen=True)
class TourFilter:
    month: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    place: str | None = None
    max_price: Decimal | None = None
    min_free_places: int | None = None
    text: SearchQuery | None = None  # full-text match on title, descriptions, place


def money(value: Decimal) -> int | float:
    """Rubles as a JSON number: whole rubles as an int."""
    return int(value) if value == value.to_integral_value() else float(value)


def month_range(month: int, today: date) -> tuple[date, date]:
    """The coming occurrence of `month`: this year's if not over yet, else next year's."""
    year = today.year if month >= today.month else today.year + 1
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return max(first, today), last


def tour_data(tour: Tour, *, details: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": tour.slug,
        "title": tour.title,
        "place": tour.place,
        "start_date": tour.start_date.isoformat(),
        "end_date": tour.end_date.isoformat(),
        "duration_hours": tour.duration_hours,
        "price_per_person": money(tour.price_per_person),
        "currency": "RUB",
        "free_places": tour.free_places,
        "url": tour.get_absolute_url(),
    }
    if details:
        data["short_description"] = tour.short_description
        data["description"] = tour.description
        data["max_participants"] = tour.max_participants
    return data


def _filtered(criteria: TourFilter) -> QuerySet[Tour]:
    today = timezone.localdate()
    tours = Tour.objects.upcoming()
    if criteria.month:
        first, last = month_range(criteria.month, today)
        tours = tours.filter(start_date__gte=first, start_date__lte=last)
    if criteria.date_from:
        tours = tours.filter(start_date__gte=criteria.date_from)
    if criteria.date_to:
        tours = tours.filter(start_date__lte=criteria.date_to)
    if criteria.place:
        # "Казань" also matches "Казани": compare on the place's stem.
        tours = tours.filter(place__istartswith=place_stem(criteria.place))
    if criteria.max_price is not None:
        tours = tours.filter(price_per_person__lte=criteria.max_price)
    if criteria.min_free_places:
        tours = tours.filter(max_participants__gte=F("places_booked") + criteria.min_free_places)
    if criteria.text is not None:
        document = SearchVector(
            "title", "short_description", "description", "place", config="russian"
        )
        tours = tours.annotate(document=document).filter(document=criteria.text)
    return tours.order_by("start_date", "title")


def search_tours(criteria: TourFilter, *, limit: int = MAX_TOURS) -> list[dict[str, Any]]:
    return [tour_data(t) for t in _filtered(criteria)[:limit]]


def count_tours(criteria: TourFilter) -> int:
    return _filtered(criteria).count()


def upcoming_tours(limit: int = 5) -> list[dict[str, Any]]:
    return [tour_data(t) for t in Tour.objects.upcoming().order_by("start_date")[:limit]]


def tour_details(slug: str) -> dict[str, Any] | None:
    tour = Tour.objects.published().filter(slug=slug).first()
    return tour_data(tour, details=True) if tour is not None else None


def known_places() -> list[str]:
    return sorted(set(Tour.objects.upcoming().values_list("place", flat=True)))


def user_bookings(user_id: int, reference: str | None = None) -> list[dict[str, Any]]:
    """The user's own bookings; a reference of someone else's booking finds nothing."""
    bookings = Booking.objects.filter(user_id=user_id).select_related("tour")
    if reference:
        bookings = bookings.filter(reference__iexact=reference.strip())
    rows = bookings.order_by("-created_at")[:10]
    return [
        {
            "reference": b.reference,
            "tour_title": b.tour.title,
            "tour_slug": b.tour.slug,
            "start_date": b.tour.start_date.isoformat(),
            "participants": b.participants,
            "status": b.status,
            "status_label": str(b.get_status_display()),
            "total_price": money(b.tour.price_per_person * b.participants),
        }
        for b in rows
    ]


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
