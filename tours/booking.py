"""Booking places of a tour: the one action the chat, the dashboard and the site call.

- `create_booking` reserves N places with a conditional
  `UPDATE tour SET places_booked = places_booked + N WHERE places_booked + N
  <= max_participants` (rows updated == 1): concurrent bookings of the last
  places serialize on the tour row, and the tour is never oversold (the
  `tour_not_overbooked` check constraint backs this up). It is idempotent
  by a client-made key: a retried confirmation returns the same booking.
- A booking starts `pending` with a hold of BOOKING_HOLD_MINUTES; an
  operator's `confirm_booking` (or, later, a payment) makes it `confirmed`.
- `cancel_booking` and expiry release the places. Expiry is both lazy and
  swept: booking a tour first expires that tour's overdue holds in the same
  transaction, so a stale hold never blocks a visitor, and `expire_holds`
  (called by `manage.py support_sweeper`) expires every overdue hold, so
  the counts on the site are right without anyone booking.

Lock order everywhere: booking rows, then the tour row (no deadlock).
Nothing here publishes to the chat: `chat.booking` wraps these for that.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from tours.models import Booking, Tour, TourQuerySet

NAME_MAX = 120
PHONE_MAX = 32
EMAIL_MAX = 254
_PHONE = re.compile(r"^\+?[0-9 ()\-]{7,32}$")
# E.164 numbers have at most 15 digits; a Russian one has 10 or 11.
PHONE_DIGITS = (10, 15)


class BookingError(Exception):
    """A booking refused, with a code for clients and a message for people.

    Codes: `invalid` (bad input, with `field`), `not_found` (no such
    published upcoming tour, or booking), `sold_out` (fewer free places than
    asked, with `free_places`), `expired` (the hold ran out), `conflict`
    (the key was used for another booking, or a state that cannot change).
    """

    def __init__(
        self, code: str, message: str, *, field: str | None = None, free_places: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.free_places = free_places


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    created: bool  # False: the same key was confirmed before (a retry)


def _invalid(field: str, message: str) -> BookingError:
    return BookingError("invalid", message, field=field)


def clean_contact(name: str, phone: str, email: str) -> Contact:
    """An anonymous visitor's contact: a name and a phone or an e-mail, checked."""
    name, phone, email = name.strip(), phone.strip(), email.strip()
    if not name:
        raise _invalid("name", _("Please tell us your name."))
    if len(name) > NAME_MAX:
        raise _invalid("name", _("At most %(limit)d characters, please.") % {"limit": NAME_MAX})
    if not phone and not email:
        raise _invalid("phone", _("Please leave a phone number or an e-mail address."))
    if phone:
        digits = sum(c.isdigit() for c in phone)
        if (
            len(phone) > PHONE_MAX
            or not _PHONE.match(phone)
            or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
        ):
            raise _invalid("phone", _("This does not look like a phone number."))
    if email:
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise _invalid("email", _("This does not look like an e-mail address.")) from None
    return Contact(name=name, phone=phone, email=email)


def check_participants(participants: int) -> int:
    limit = settings.BOOKING_MAX_PARTICIPANTS
    if not 1 <= participants <= limit:
        raise _invalid(
            "participants",
            _("A booking is for 1 to %(limit)d people; for a larger group ask an operator.")
            % {"limit": limit},
        )
    return participants


def bookable_tours() -> TourQuerySet:
    """Published tours that have not started: the only ones one can book."""
    return Tour.objects.published().filter(start_date__gt=timezone.localdate())


def check_bookable(tour: Tour | None, participants: int) -> Tour:
    """`tour` (from `bookable_tours()`, or None) if it has `participants` free places."""
    if tour is None:
        raise BookingError("not_found", _("This tour cannot be booked."))
    check_participants(participants)
    if tour.free_places < participants:
        raise BookingError(
            "sold_out",
            _("Only %(free)d free places are left on this tour.") % {"free": tour.free_places}
            if tour.free_places
            else _("There are no free places left on this tour."),
            field="participants",
            free_places=tour.free_places,
        )
    return tour


def _contact_of_user(user_id: int) -> Contact:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    name = user.get_full_name() or user.get_username()
    return Contact(name=name[:NAME_MAX], phone="", email=user.email or "")


def _release(tour_id: int, places: int) -> None:
    # Greatest: demo data counts places without bookings behind them; never below 0.
    Tour.objects.filter(pk=tour_id).update(places_booked=Greatest(F("places_booked") - places, 0))


def _same_owner(booking: Booking, user_id: int | None, contact: Contact | None) -> bool:
    if booking.user_id is not None or user_id is not None:
        return booking.user_id == user_id
    return contact is not None and (booking.phone, booking.email) == (contact.phone, contact.email)


def _replay(
    key: uuid.UUID, *, tour_id: int, participants: int, user_id: int | None, contact: Contact | None
) -> BookingResult | None:
    """The booking an earlier confirmation with `key` made, if any."""
    existing = Booking.objects.select_related("tour").filter(idempotency_key=key).first()
    if existing is None:
        return None
    if (
        existing.tour_id != tour_id
        or existing.participants != participants
        or not _same_owner(existing, user_id, contact)
    ):
        raise BookingError("conflict", _("This confirmation was already used for another booking."))
    return BookingResult(existing, created=False)


def create_booking(
    *,
    tour_id: int,
    participants: int,
    idempotency_key: uuid.UUID,
    user_id: int | None = None,
    contact: Contact | None = None,
    now: datetime | None = None,
) -> BookingResult:
    """Reserve `participants` places of a bookable tour, pending for BOOKING_HOLD_MINUTES.

    Logged in (`user_id`): the booking is theirs, the contact from the
    account unless given. Anonymous: `contact` is required (`clean_contact`).
    A retry with the same `idempotency_key` (and the same tour, people and
    owner) returns the booking made the first time, with created=False.
    """
    check_participants(participants)
    if user_id is None and contact is None:
        raise _invalid("name", _("Please tell us your name."))
    if contact is None:
        assert user_id is not None
        contact = _contact_of_user(user_id)
    now = now or timezone.now()
    replay = _replay(
        idempotency_key,
        tour_id=tour_id,
        participants=participants,
        user_id=user_id,
        contact=contact,
    )
    if replay is not None:
        return replay
    try:
        return _reserve(
            tour_id=tour_id,
            participants=participants,
            key=idempotency_key,
            user_id=user_id,
            contact=contact,
            now=now,
        )
    except IntegrityError:
        # The same key confirmed at the same moment by another request (two tabs,
        # a retry racing the original): that transaction won, ours rolled back
        # with the places it took. Give back the winner's booking.
        replay = _replay(
            idempotency_key,
            tour_id=tour_id,
            participants=participants,
            user_id=user_id,
            contact=contact,
        )
        if replay is None:
            raise
        return replay


@transaction.atomic
def _reserve(
    *,
    tour_id: int,
    participants: int,
    key: uuid.UUID,
    user_id: int | None,
    contact: Contact,
    now: datetime,
) -> BookingResult:
    _expire(Booking.objects.filter(tour_id=tour_id), now)  # lazy: free overdue holds first
    taken = (
        Tour.objects.published()
        .filter(
            pk=tour_id,
            start_date__gt=timezone.localdate(),
            places_booked__lte=F("max_participants") - participants,
        )
        .update(places_booked=F("places_booked") + participants)
    )
    if taken != 1:
        tour = bookable_tours().filter(pk=tour_id).first()
        if tour is None:
            raise BookingError("not_found", _("This tour cannot be booked."))
        raise BookingError(
            "sold_out",
            _("Only %(free)d free places are left on this tour.") % {"free": tour.free_places}
            if tour.free_places
            else _("There are no free places left on this tour."),
            field="participants",
            free_places=tour.free_places,
        )
    tour = Tour.objects.get(pk=tour_id)
    booking = Booking.objects.create(
        tour=tour,
        user_id=user_id,
        contact_name=contact.name,
        phone=contact.phone,
        email=contact.email,
        participants=participants,
        total_price=tour.price_per_person * participants,
        status=Booking.Status.PENDING,
        idempotency_key=key,
        hold_expires_at=now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
    )
    return BookingResult(booking, created=True)


def total_price(tour: Tour, participants: int) -> Decimal:
    return tour.price_per_person * participants


def confirm_booking(
    *, booking_id: int, by_user_id: int | None, now: datetime | None = None
) -> Booking:
    """An operator confirms a pending booking whose hold has not run out.

    Precondition, in the UPDATE: status pending and hold_expires_at > now.
    Confirming a confirmed booking again changes nothing; an expired or
    cancelled one cannot be confirmed (`expired` / `conflict`). An overdue
    hold the sweep has not reached yet is expired here (and committed).
    """
    booking, refusal = _confirm(booking_id, by_user_id, now or timezone.now())
    if refusal is not None:
        raise refusal
    return booking


@transaction.atomic
def _confirm(
    booking_id: int, by_user_id: int | None, now: datetime
) -> tuple[Booking, BookingError | None]:
    updated = Booking.objects.filter(
        pk=booking_id, status=Booking.Status.PENDING, hold_expires_at__gt=now
    ).update(
        status=Booking.Status.CONFIRMED,
        confirmed_at=now,
        confirmed_by_id=by_user_id,
        hold_expires_at=None,
    )
    booking = Booking.objects.select_related("tour").filter(pk=booking_id).first()
    if booking is None:
        raise BookingError("not_found", _("There is no such booking."))
    if updated == 1 or booking.status == Booking.Status.CONFIRMED:
        return booking, None
    if booking.status in (Booking.Status.PENDING, Booking.Status.EXPIRED):
        _expire(Booking.objects.filter(pk=booking_id), now)
        booking.refresh_from_db()
        return booking, BookingError("expired", _("The hold of this booking has expired."))
    return booking, BookingError("conflict", _("A cancelled booking cannot be confirmed."))


@transaction.atomic
def cancel_booking(*, booking_id: int, now: datetime | None = None) -> tuple[Booking, bool]:
    """Cancel a pending or confirmed booking and release its places.

    Returns (booking, changed): cancelling it again changes nothing. The
    status change is the conditional UPDATE, so two cancels release once.
    """
    now = now or timezone.now()
    row = (
        Booking.objects.select_for_update()
        .filter(pk=booking_id, status__in=Booking.HOLDING)
        .values_list("tour_id", "participants")
        .first()
    )
    if row is not None:
        Booking.objects.filter(pk=booking_id).update(
            status=Booking.Status.CANCELLED, cancelled_at=now, hold_expires_at=None
        )
        _release(row[0], row[1])
    booking = Booking.objects.select_related("tour").filter(pk=booking_id).first()
    if booking is None:
        raise BookingError("not_found", _("There is no such booking."))
    if row is None and booking.status == Booking.Status.EXPIRED:
        raise BookingError("expired", _("The hold of this booking has expired."))
    return booking, row is not None


def _expire(bookings: QuerySet[Booking], now: datetime) -> list[int]:
    """Expire the overdue pending holds among `bookings`; release their places.

    Rows another transaction holds locked (being confirmed or cancelled) are
    skipped: that transaction decides, and a later sweep sees the outcome.
    """
    overdue = list(
        bookings.select_for_update(skip_locked=True)
        .filter(status=Booking.Status.PENDING, hold_expires_at__lte=now)
        .values_list("id", "tour_id", "participants")
    )
    if not overdue:
        return []
    ids = [row[0] for row in overdue]
    Booking.objects.filter(pk__in=ids).update(status=Booking.Status.EXPIRED, hold_expires_at=None)
    per_tour: dict[int, int] = {}
    for _id, tour_id, participants in overdue:
        per_tour[tour_id] = per_tour.get(tour_id, 0) + participants
    for tour_id in sorted(per_tour):  # one order: no deadlock between two sweeps
        _release(tour_id, per_tour[tour_id])
    return ids


@transaction.atomic
def expire_holds(
    *, now: datetime | None = None, limit: int = 500, user_id: int | None = None
) -> list[int]:
    """The sweep: expire up to `limit` overdue holds (of `user_id` only, if given)."""
    now = now or timezone.now()
    overdue = Booking.objects.filter(status=Booking.Status.PENDING, hold_expires_at__lte=now)
    if user_id is not None:
        overdue = overdue.filter(user_id=user_id)
    return _expire(Booking.objects.filter(pk__in=overdue.values("pk")[:limit]), now)


def places_held(tour_id: int) -> int:
    """Places the tour's pending and confirmed bookings take (for checks and tests)."""
    total = Booking.objects.filter(tour_id=tour_id, status__in=Booking.HOLDING).aggregate(
        n=Sum("participants")
    )["n"]
    return int(total or 0)
