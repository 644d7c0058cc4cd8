"""Read-only views of the catalogue for the AI: one tour, a visitor's bookings.

Searching tours is `ai.retrieval` (shared with the offline answerer).

Plain sync ORM functions returning JSON-able dicts; the async side calls
each through `database_sync_to_async`, one short hop per call. Only
published tours are ever shown, and bookings only to their own user.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tours.models import Booking, Tour


def money(value: Decimal) -> int | float:
    """Rubles as a JSON number: whole rubles as an int."""
    return int(value) if value == value.to_integral_value() else float(value)


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


def tour_details(slug: str) -> dict[str, Any] | None:
    tour = Tour.objects.published().filter(slug=slug).first()
    return tour_data(tour, details=True) if tour is not None else None


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
