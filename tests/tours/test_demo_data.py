"""The demo catalogue loader."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tours.models import Booking, Tour

pytestmark = pytest.mark.django_db


def test_loading_twice_creates_no_duplicates():
    call_command("load_demo_tours", stdout=StringIO())
    tours, bookings = Tour.objects.count(), Booking.objects.count()
    call_command("load_demo_tours", stdout=StringIO())
    assert (Tour.objects.count(), Booking.objects.count()) == (tours, bookings)
    assert tours >= 20
    assert bookings >= 3


def test_demo_tours_are_published_spread_over_the_next_year_and_some_nearly_sold_out():
    call_command("load_demo_tours", stdout=StringIO())
    tours = list(Tour.objects.all())
    assert all(t.status == Tour.Status.PUBLISHED for t in tours)
    today = date.today()
    assert all(today <= t.start_date <= today + timedelta(days=366) for t in tours)
    months = {(t.start_date.year, t.start_date.month) for t in tours}
    assert len(months) >= 6
    assert any(0 < t.free_places <= 3 for t in tours)
    places = {t.place for t in tours}
    assert {"Казань", "Свияжск", "Болгар", "Раифа", "Елабуга"} <= places
