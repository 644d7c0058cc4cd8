"""The demo catalogue loader."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tours.models import Booking, SearchAlias, Tour

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


def test_demo_aliases_are_seeded_once_and_point_at_real_places_or_tours():
    call_command("load_demo_tours", stdout=StringIO())
    count = SearchAlias.objects.count()
    call_command("load_demo_tours", stdout=StringIO())
    assert SearchAlias.objects.count() == count >= 20
    places = set(Tour.objects.values_list("place", flat=True))
    for alias in SearchAlias.objects.all():
        assert alias.tour_id is not None or alias.place in places, alias.name
    assert SearchAlias.objects.get(name="Булгар").place == "Болгар"
    kul_sharif = SearchAlias.objects.select_related("tour").get(name="Кул-Шариф")
    assert kul_sharif.tour is not None and kul_sharif.tour.slug == "kazan-kremlin-kul-sharif"


def test_an_alias_must_stand_for_something():
    alias = SearchAlias(name="  Чаша  ")
    with pytest.raises(ValidationError):
        alias.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        SearchAlias.objects.create(name="Чаша")
