"""Filtering the catalogue by month, place and price (tours/filters.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest

from tests.factories import make_tour
from tours.filters import TourFilterForm, TourFilters, filter_tours, list_url
from tours.models import Tour

pytestmark = pytest.mark.django_db


def next_month_start(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


@pytest.fixture
def catalogue() -> dict[str, Tour]:
    soon = next_month_start(date.today())
    later = next_month_start(soon)
    return {
        "kremlin": make_tour(
            title="Кремль", place="Казань", start_date=soon, price_per_person=Decimal(2500)
        ),
        "sviyazhsk": make_tour(
            title="Свияжск", place="Свияжск", start_date=soon, price_per_person=Decimal(3200)
        ),
        "cruise": make_tour(
            title="Круиз", place="Казань", start_date=later, price_per_person=Decimal(28500)
        ),
    }


def titles(tours) -> list[str]:
    return [tour.title for tour in tours]


def test_no_filters_lists_everything_by_date(catalogue):
    assert titles(filter_tours(Tour.objects.upcoming(), TourFilters())) == [
        "Кремль",
        "Свияжск",
        "Круиз",
    ]


def test_month_keeps_tours_starting_in_that_month(catalogue):
    month = catalogue["cruise"].start_date.replace(day=17)
    found = filter_tours(Tour.objects.upcoming(), TourFilters(month=month))
    assert titles(found) == ["Круиз"]


def test_place_matches_regardless_of_case(catalogue):
    found = filter_tours(Tour.objects.upcoming(), TourFilters(place="казань"))
    assert titles(found) == ["Кремль", "Круиз"]


def test_price_bounds_are_inclusive(catalogue):
    found = filter_tours(
        Tour.objects.upcoming(),
        TourFilters(price_min=Decimal(2500), price_max=Decimal(3200)),
    )
    assert titles(found) == ["Кремль", "Свияжск"]


def test_filters_combine(catalogue):
    found = filter_tours(
        Tour.objects.upcoming(),
        TourFilters(place="Казань", price_max=Decimal(5000), month=catalogue["kremlin"].start_date),
    )
    assert titles(found) == ["Кремль"]


def test_sort_by_price_both_ways(catalogue):
    upcoming = Tour.objects.upcoming()
    assert titles(filter_tours(upcoming, TourFilters(sort="price"))) == [
        "Кремль",
        "Свияжск",
        "Круиз",
    ]
    assert titles(filter_tours(upcoming, TourFilters(sort="-price"))) == [
        "Круиз",
        "Свияжск",
        "Кремль",
    ]


def test_form_offers_only_existing_months_and_places(catalogue):
    form = TourFilterForm(None, tours=Tour.objects.upcoming())
    months = [option.data["value"] for option in form["month"]]
    places = [option.data["value"] for option in form["place"]]
    soon, later = catalogue["kremlin"].start_date, catalogue["cruise"].start_date
    assert months == ["", soon.strftime("%Y-%m"), later.strftime("%Y-%m")]
    assert places == ["", "Казань", "Свияжск"]


def test_form_turns_parameters_into_filters(catalogue):
    month = catalogue["kremlin"].start_date.strftime("%Y-%m")
    form = TourFilterForm(
        {
            "month": month,
            "place": "Казань",
            "price_min": "1000",
            "price_max": "3000",
            "sort": "price",
        },
        tours=Tour.objects.upcoming(),
    )
    assert form.filters() == TourFilters(
        month=catalogue["kremlin"].start_date.replace(day=1),
        place="Казань",
        price_min=Decimal(1000),
        price_max=Decimal(3000),
        sort="price",
    )


def test_form_ignores_bad_values_but_keeps_good_ones(catalogue):
    form = TourFilterForm(
        {"month": "1999-01", "place": "Казань", "price_max": "дёшево"},
        tours=Tour.objects.upcoming(),
    )
    filters = form.filters()
    assert filters == TourFilters(place="Казань")
    assert set(form.errors) == {"month", "price_max"}


def test_form_swaps_reversed_price_bounds(catalogue):
    form = TourFilterForm({"price_min": "5000", "price_max": "2000"}, tours=Tour.objects.upcoming())
    filters = form.filters()
    assert (filters.price_min, filters.price_max) == (Decimal(2000), Decimal(5000))


def test_list_url_is_the_absolute_filtered_tour_list() -> None:
    site = "https://tours.example.ru/"
    assert list_url(site) == "https://tours.example.ru/tours/"
    assert (
        list_url(site, month=date(2026, 12, 21), place="Свияжск", price_max=Decimal("3000"))
        == "https://tours.example.ru/tours/?month=2026-12&place="
        + quote("Свияжск")
        + "&price_max=3000"
    )
