"""The public tours site the chat widget lives on."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tours.booking import bookable_tours, expire_holds
from tours.filters import TourFilterForm, filter_tours
from tours.models import Booking, FaqEntry, Tour

FEATURED_COUNT = 6
FAQ_ON_HOME = 4
RELATED_COUNT = 3


def home(request: HttpRequest) -> HttpResponse:
    upcoming = Tour.objects.upcoming()
    # Featured: the soonest tours one can still book.
    featured = upcoming.filter(places_booked__lt=F("max_participants"))[:FEATURED_COUNT]
    places = upcoming.order_by("place").values_list("place", flat=True).distinct()
    faq = FaqEntry.objects.filter(is_published=True)[:FAQ_ON_HOME]
    return render(
        request,
        "tours/home.html",
        {"tours": featured, "places": list(places), "faq": faq},
    )


def tour_list(request: HttpRequest) -> HttpResponse:
    upcoming = Tour.objects.upcoming()
    form = TourFilterForm(request.GET or None, tours=upcoming)
    filters = form.filters()
    tours = filter_tours(upcoming, filters)
    return render(
        request,
        "tours/list.html",
        {"form": form, "filters": filters, "tours": tours},
    )


def tour_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tour = get_object_or_404(Tour.objects.published(), slug=slug)
    related = (Tour.objects.upcoming().filter(place__iexact=tour.place).exclude(pk=tour.pk))[
        :RELATED_COUNT
    ]
    return render(
        request,
        "tours/detail.html",
        {
            "tour": tour,
            "related": related,
            "is_past": tour.start_date < timezone.localdate(),
            # The «Забронировать» button opens the chat's booking card (tours/booking.py).
            "bookable": tour.free_places > 0 and bookable_tours().filter(pk=tour.pk).exists(),
            "hold_minutes": settings.BOOKING_HOLD_MINUTES,
        },
    )


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    """«Мои бронирования»: the logged-in visitor's own bookings, newest first."""
    user_id = request.user.pk
    assert user_id is not None  # login_required
    # Lazy expiry: an overdue hold the sweep has not reached yet shows as expired.
    expire_holds(user_id=user_id)
    rows = Booking.objects.filter(user_id=user_id).select_related("tour")
    return render(request, "tours/bookings.html", {"bookings": rows[:100]})
