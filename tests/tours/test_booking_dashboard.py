"""The dashboard confirms and cancels a chat's booking; only operators may."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from chat.models import BookingProposal, ChatSession
from tests.factories import make_operator, make_site_user, make_tour
from tours import booking as bookings
from tours.models import Booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat_booking() -> Booking:
    tour = make_tour(places_booked=5)
    booking = bookings.create_booking(
        tour_id=tour.pk,
        participants=2,
        idempotency_key=uuid.uuid4(),
        contact=bookings.Contact("Анна", "+79171234567", ""),
    ).booking
    assert booking.hold_expires_at is not None
    session = ChatSession.objects.create(
        token_hash=uuid.uuid4().hex, token_expires_at=booking.hold_expires_at
    )
    BookingProposal.objects.create(
        session=session,
        tour=tour,
        participants=2,
        origin=BookingProposal.Origin.SITE,
        booking=booking,
        expires_at=booking.hold_expires_at,
    )
    return booking


def post(client: Client, booking: Booking, action: str):
    return client.post(
        f"/support/bookings/{booking.reference}/{action}/", HTTP_ACCEPT_LANGUAGE="ru"
    )


def test_an_operator_confirms_then_cancels_and_the_places_come_back(client, chat_booking):
    operator = make_operator(name="Айгуль")
    client.force_login(operator)
    confirmed = post(client, chat_booking, "confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["booking"]["status"] == "confirmed"
    chat_booking.refresh_from_db()
    assert chat_booking.confirmed_by_id == operator.pk
    cancelled = post(client, chat_booking, "cancel")
    assert cancelled.json()["booking"]["status"] == "cancelled"
    chat_booking.tour.refresh_from_db()
    assert chat_booking.tour.places_booked == 5
    refused = post(client, chat_booking, "confirm")
    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == "conflict"


def test_visitors_and_strangers_cannot_change_bookings(client, chat_booking):
    client.force_login(make_site_user())
    assert post(client, chat_booking, "confirm").status_code == 403
    anonymous = Client()
    assert post(anonymous, chat_booking, "cancel").status_code == 403
    chat_booking.refresh_from_db()
    assert chat_booking.status == Booking.Status.PENDING


def test_an_unknown_booking_or_action_is_not_found(client, chat_booking):
    client.force_login(make_operator(name="Айгуль"))
    assert client.post("/support/bookings/TT-NOPE00/confirm/").status_code == 404
    assert post(client, chat_booking, "delete").status_code == 404


def test_my_bookings_lists_only_the_visitors_own(client):
    owner = make_site_user()
    tour = make_tour(title="Свияжск")
    mine = bookings.create_booking(
        tour_id=tour.pk, participants=2, idempotency_key=uuid.uuid4(), user_id=owner.pk
    ).booking
    theirs = bookings.create_booking(
        tour_id=tour.pk,
        participants=1,
        idempotency_key=uuid.uuid4(),
        contact=bookings.Contact("Чужой", "", "x@example.com"),
    ).booking
    assert client.get("/bookings/").status_code == 302  # to the login page
    client.force_login(owner)
    html = client.get("/bookings/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert mine.reference in html and theirs.reference not in html
    assert "Мои бронирования" in html


def test_the_tour_page_has_a_book_button_only_when_it_can_be_booked(client):
    open_tour = make_tour()
    sold_out = make_tour(max_participants=10, places_booked=10)
    html = client.get(open_tour.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f'data-tatartours-book="{open_tour.slug}"' in html and "Забронировать" in html
    html = client.get(sold_out.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "data-tatartours-book" not in html
