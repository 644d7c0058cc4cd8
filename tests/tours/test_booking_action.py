"""The booking action: places taken atomically, idempotent confirmations, holds that expire."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tests.factories import make_tour
from tours import booking as bookings
from tours.models import Booking, Tour

ANNA = bookings.Contact(name="Анна Сафина", phone="+7 917 123-45-67", email="")


def book(tour: Tour, participants: int = 2, **kwargs) -> bookings.BookingResult:
    kwargs.setdefault("contact", ANNA)
    kwargs.setdefault("idempotency_key", uuid.uuid4())
    return bookings.create_booking(tour_id=tour.pk, participants=participants, **kwargs)


def places_booked(tour: Tour) -> int:
    return Tour.objects.values_list("places_booked", flat=True).get(pk=tour.pk)


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_attempts_at_the_last_two_places_never_overbook():
    tour = make_tour(max_participants=20, places_booked=18)
    start = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        start.wait()
        try:
            book(tour, participants=1)
            outcome = "booked"
        except bookings.BookingError as error:
            outcome = error.code
        finally:
            connection.close()  # each thread has its own connection; give it back
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["booked"] * 2 + ["sold_out"] * 8
    assert places_booked(tour) == 20
    assert Booking.objects.filter(tour=tour, status=Booking.Status.PENDING).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_key_confirmed_twice_at_once_gives_one_booking():
    tour = make_tour(max_participants=20, places_booked=0)
    key = uuid.uuid4()
    start = threading.Barrier(5)
    references: list[str] = []
    lock = threading.Lock()

    def confirm() -> None:
        start.wait()
        try:
            result = book(tour, participants=3, idempotency_key=key)
        finally:
            connection.close()
        with lock:
            references.append(result.booking.reference)

    threads = [threading.Thread(target=confirm) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(references) == 5 and len(set(references)) == 1
    assert Booking.objects.count() == 1
    assert places_booked(tour) == 3  # the losers' places went back with their rollback


@pytest.mark.django_db
def test_a_booking_is_pending_with_a_hold_and_the_total_price(settings):
    settings.BOOKING_HOLD_MINUTES = 45
    tour = make_tour(price_per_person=Decimal("2500.00"), places_booked=5)
    before = timezone.now()
    result = book(tour, participants=3)
    booking = result.booking
    assert result.created
    assert booking.status == Booking.Status.PENDING
    assert booking.total_price == Decimal("7500.00")
    assert booking.reference.startswith("TT-")
    assert booking.hold_expires_at is not None
    assert before + timedelta(minutes=45) <= booking.hold_expires_at
    assert booking.hold_expires_at <= timezone.now() + timedelta(minutes=45)
    assert places_booked(tour) == 8


@pytest.mark.django_db
def test_a_retried_confirmation_returns_the_same_booking_and_takes_no_more_places():
    tour = make_tour(places_booked=5)
    key = uuid.uuid4()
    first = book(tour, idempotency_key=key)
    again = book(tour, idempotency_key=key)
    assert not again.created
    assert again.booking.pk == first.booking.pk
    assert places_booked(tour) == 7


@pytest.mark.django_db
def test_a_key_reused_for_another_booking_or_by_someone_else_is_refused():
    tour = make_tour()
    key = uuid.uuid4()
    book(tour, participants=2, idempotency_key=key)
    with pytest.raises(bookings.BookingError) as other_count:
        book(tour, participants=4, idempotency_key=key)
    assert other_count.value.code == "conflict"
    stranger = bookings.Contact(name="Чужой", phone="", email="x@example.com")
    with pytest.raises(bookings.BookingError) as other_person:
        book(tour, participants=2, idempotency_key=key, contact=stranger)
    assert other_person.value.code == "conflict"


@pytest.mark.django_db
def test_a_logged_in_visitor_books_on_their_account():
    user = get_user_model().objects.create_user(
        "ruslan", email="ruslan@example.com", first_name="Руслан", last_name="Гарипов"
    )
    tour = make_tour()
    booking = book(tour, user_id=user.pk, contact=None).booking
    assert booking.user_id == user.pk
    assert (booking.contact_name, booking.email) == ("Руслан Гарипов", "ruslan@example.com")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "phone", "email", "field"),
    [
        ("", "+79171234567", "", "name"),
        ("Анна", "", "", "phone"),
        ("Анна", "12-34", "", "phone"),
        ("Анна", "позвоните мне", "", "phone"),
        ("Анна", "", "anna@", "email"),
        ("А" * 121, "+79171234567", "", "name"),
    ],
)
def test_an_anonymous_contact_needs_a_name_and_a_real_phone_or_email(name, phone, email, field):
    with pytest.raises(bookings.BookingError) as refused:
        bookings.clean_contact(name, phone, email)
    assert (refused.value.code, refused.value.field) == ("invalid", field)


@pytest.mark.django_db
def test_sold_out_past_draft_and_oversized_requests_are_refused():
    full = make_tour(max_participants=10, places_booked=9)
    with pytest.raises(bookings.BookingError) as sold_out:
        book(full, participants=2)
    assert (sold_out.value.code, sold_out.value.free_places) == ("sold_out", 1)
    for tour in (
        make_tour(start_date=timezone.localdate() - timedelta(days=1)),
        make_tour(status=Tour.Status.DRAFT),
    ):
        with pytest.raises(bookings.BookingError) as refused:
            book(tour)
        assert refused.value.code == "not_found"
    with pytest.raises(bookings.BookingError) as too_many:
        book(make_tour(), participants=11)
    assert too_many.value.field == "participants"
    assert places_booked(full) == 9


@pytest.mark.django_db
def test_cancelling_releases_the_places_once():
    tour = make_tour(places_booked=5)
    booking = book(tour, participants=3).booking
    cancelled, changed = bookings.cancel_booking(booking_id=booking.pk)
    assert changed and cancelled.status == Booking.Status.CANCELLED
    again, changed_again = bookings.cancel_booking(booking_id=booking.pk)
    assert not changed_again and again.status == Booking.Status.CANCELLED
    assert places_booked(tour) == 5
    with pytest.raises(bookings.BookingError) as refused:
        bookings.confirm_booking(booking_id=booking.pk, by_user_id=None)
    assert refused.value.code == "conflict"


@pytest.mark.django_db
def test_a_confirmed_booking_keeps_its_places_past_the_hold():
    tour = make_tour(places_booked=5)
    booking = book(tour, participants=2).booking
    confirmed = bookings.confirm_booking(booking_id=booking.pk, by_user_id=None)
    assert confirmed.status == Booking.Status.CONFIRMED and confirmed.hold_expires_at is None
    assert bookings.expire_holds(now=timezone.now() + timedelta(days=1)) == []
    assert places_booked(tour) == 7


@pytest.mark.django_db
def test_the_sweep_expires_overdue_holds_and_releases_their_places(settings):
    settings.BOOKING_HOLD_MINUTES = 30
    tour = make_tour(places_booked=5)
    overdue = book(tour, participants=2).booking
    later = book(tour, participants=1, now=timezone.now() + timedelta(minutes=20)).booking
    expired = bookings.expire_holds(now=timezone.now() + timedelta(minutes=31))
    assert expired == [overdue.pk]
    overdue.refresh_from_db()
    later.refresh_from_db()
    assert overdue.status == Booking.Status.EXPIRED
    assert later.status == Booking.Status.PENDING
    assert places_booked(tour) == 6
    # An expired hold cannot be confirmed any more.
    with pytest.raises(bookings.BookingError) as refused:
        bookings.confirm_booking(booking_id=overdue.pk, by_user_id=None)
    assert refused.value.code == "expired"


@pytest.mark.django_db
def test_an_overdue_hold_is_released_lazily_when_someone_books_the_tour():
    tour = make_tour(max_participants=10, places_booked=7)
    stale = book(tour, participants=3, now=timezone.now() - timedelta(hours=2)).booking
    # No sweep ran: the next visitor still gets the places the stale hold kept.
    fresh = book(tour, participants=3).booking
    stale.refresh_from_db()
    assert stale.status == Booking.Status.EXPIRED
    assert fresh.status == Booking.Status.PENDING
    assert places_booked(tour) == 10


@pytest.mark.django_db
def test_confirming_an_overdue_hold_the_sweep_missed_expires_it():
    tour = make_tour(places_booked=5)
    stale = book(tour, participants=2, now=timezone.now() - timedelta(hours=2)).booking
    with pytest.raises(bookings.BookingError) as refused:
        bookings.confirm_booking(booking_id=stale.pk, by_user_id=None)
    assert refused.value.code == "expired"
    assert places_booked(tour) == 5
