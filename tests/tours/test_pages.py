"""The public site: home, the tour list with its filters, the tour page."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_tour
from tours.models import Tour

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def page(client, url: str, **params: str) -> str:
    response = client.get(url, params, **RUSSIAN)
    assert response.status_code == 200
    return response.content.decode()


def test_home_features_upcoming_published_tours_with_places(client):
    make_tour(title="Свияжск, остров-град")
    make_tour(title="Черновик тура", status=Tour.Status.DRAFT)
    make_tour(title="Прошедший тур", start_date=date.today() - timedelta(days=3))
    make_tour(title="Распроданный тур", places_booked=20, max_participants=20)
    html = page(client, reverse("tours:home"))
    assert "Свияжск, остров-град" in html
    assert "Черновик тура" not in html
    assert "Прошедший тур" not in html
    assert "Распроданный тур" not in html
    assert "Туры по Татарстану" in html  # the Russian catalogue is in use


def test_every_page_embeds_the_chat_widget(client):
    tour = make_tour()
    for url in (reverse("tours:home"), reverse("tours:list"), tour.get_absolute_url()):
        assert "/static/chat/widget.js" in page(client, url)


def test_tour_page_shows_price_dates_and_free_places(client):
    tour = make_tour(
        title="Древний Болгар",
        price_per_person=Decimal("5400.00"),
        max_participants=28,
        places_booked=10,
        start_date=date(2031, 6, 12),
        end_date=date(2031, 6, 13),
    )
    html = page(client, tour.get_absolute_url())
    assert "Древний Болгар" in html
    # Non-breaking spaces: a price or a date never wraps inside itself on a phone.
    assert "5\xa0400\xa0₽" in html
    assert "за человека" in html
    assert "12–13\xa0июня\xa02031" in html
    assert "Осталось 18 мест" in html
    assert "почти распродано" not in html
    assert f'data-tour="{tour.slug}"' in html


@pytest.mark.parametrize(
    ("max_participants", "booked", "badge"),
    [(28, 26, True), (40, 36, True), (20, 0, False), (30, 26, False)],
)
def test_almost_sold_out_badge_when_few_places_are_left(client, max_participants, booked, badge):
    tour = make_tour(max_participants=max_participants, places_booked=booked)
    html = page(client, tour.get_absolute_url())
    assert ("почти распродано" in html) is badge


def test_sold_out_tour_says_so(client):
    tour = make_tour(max_participants=12, places_booked=12)
    html = page(client, tour.get_absolute_url())
    assert "мест нет" in html
    assert "Мест не осталось" in html


def test_draft_tour_page_is_not_found(client):
    draft = make_tour(status=Tour.Status.DRAFT)
    response = client.get(draft.get_absolute_url(), **RUSSIAN)
    assert response.status_code == 404


def test_list_hides_drafts_and_past_tours(client):
    make_tour(title="Раифа")
    make_tour(title="Черновик тура", status=Tour.Status.DRAFT)
    make_tour(title="Прошедший тур", start_date=date.today() - timedelta(days=1))
    html = page(client, reverse("tours:list"))
    assert "Раифа" in html
    assert "Черновик тура" not in html
    assert "Прошедший тур" not in html
    assert "Найден 1 тур" in html


def test_list_filters_by_place_and_price(client):
    make_tour(title="Кремль", place="Казань", price_per_person=Decimal(2500))
    make_tour(title="Круиз", place="Казань", price_per_person=Decimal(28500))
    make_tour(title="Свияжск", place="Свияжск", price_per_person=Decimal(3200))
    html = page(client, reverse("tours:list"), place="Казань", price_max="5000")
    assert "Кремль" in html
    assert "Круиз" not in html
    assert ">Свияжск</a>" not in html
    assert "Сбросить" in html


def test_list_filters_by_month(client):
    in_two_months = date.today() + timedelta(days=62)
    make_tour(title="Раифа", start_date=date.today() + timedelta(days=2))
    make_tour(title="Елабуга", start_date=in_two_months)
    html = page(client, reverse("tours:list"), month=in_two_months.strftime("%Y-%m"))
    assert "Елабуга" in html
    assert "Раифа" not in html


def test_list_with_nothing_found_offers_a_way_out(client):
    make_tour(place="Казань")
    html = page(client, reverse("tours:list"), place="Казань", price_max="1")
    assert "Ни один тур не подходит" in html


def test_list_survives_garbage_parameters(client):
    make_tour(title="Раифа")
    html = page(client, reverse("tours:list"), month="зима", price_min="-5", sort="random")
    assert "Раифа" in html
