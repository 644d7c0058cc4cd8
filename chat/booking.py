"""Booking from the chat: proposals shown as a card, bookings made only by its click.

The AI's `propose_booking` tool, the offline answerer and the tour page's
«Забронировать» button make a `BookingProposal`, which books nothing: the
visitor gets a `booking_proposal` frame and the widget shows a card. Only
the card's `confirm_booking` frame (the proposal's id, a client-made
idempotency key, the contact of an anonymous visitor) calls
`tours.booking.create_booking`. No text a visitor writes and no tool call a
model makes reaches that function.

Each function is one unit of DB work (run through `chat.publish.run_action`
from async code) and publishes its events on commit.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from chat import guards
from chat.errors import ClientError
from chat.events import session_group
from chat.hooks import Frame
from chat.models import BookingProposal, ChatMessage, ChatSession
from chat.publish import publish_on_commit, run_action, run_action_from
from tours import booking as bookings
from tours.models import Booking, Tour

# A card left unclicked this long is stale: dates and free places may have changed.
PROPOSAL_TTL = timedelta(hours=2)
# Cards the tour page's button may ask for per chat and hour (each is a row).
MAX_REQUESTS_PER_HOUR = 20
# Frames of the chat group the holding operator's dashboard also gets.
BOOKING_FRAMES = ("booking_proposal", "booking_created", "booking_updated")
# Pending holds one chat may have at once: a script cannot hold a whole tour.
MAX_PENDING_PER_SESSION = 3


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def tour_data(tour: Tour) -> dict[str, Any]:
    return {
        "slug": tour.slug,
        "title": tour.title,
        "place": tour.place,
        "start_date": tour.start_date.isoformat(),
        "end_date": tour.end_date.isoformat(),
        "price_per_person": str(tour.price_per_person),
        "free_places": tour.free_places,
        "url": tour.get_absolute_url(),
    }


def booking_data(booking: Booking) -> dict[str, Any]:
    """A booking as the visitor's widget and the operator's dashboard show it."""
    return {
        "reference": booking.reference,
        "tour": {
            "slug": booking.tour.slug,
            "title": booking.tour.title,
            "start_date": booking.tour.start_date.isoformat(),
        },
        "participants": booking.participants,
        "total_price": str(booking.total_price) if booking.total_price is not None else None,
        "contact_name": booking.contact_name,
        "status": booking.status,
        "status_label": str(booking.get_status_display()),
        "hold_expires_at": _iso(booking.hold_expires_at),
        "created_at": _iso(booking.created_at),
    }


def proposal_frame(proposal: BookingProposal, *, needs_contact: bool) -> dict[str, Any]:
    tour = proposal.tour
    return {
        "type": "booking_proposal",
        "session_id": str(proposal.session.public_id),
        "proposal_id": str(proposal.public_id),
        "tour": tour_data(tour),
        "participants": proposal.participants,
        # What the card's counter allows: the free places, within the per-booking limit.
        "max_participants": max(1, min(tour.free_places, settings.BOOKING_MAX_PARTICIPANTS)),
        "total_price": str(bookings.total_price(tour, proposal.participants)),
        "currency": "RUB",
        "needs_contact": needs_contact,
        "hold_minutes": settings.BOOKING_HOLD_MINUTES,
        "expires_at": _iso(proposal.expires_at),
        "origin": proposal.origin,
    }


def _refusal(error: bookings.BookingError, **extra: Any) -> ClientError:
    """A BookingError as the contract's `error`: `invalid` or `not_found`, with a reason."""
    code = "not_found" if error.code == "not_found" else "invalid"
    fields: dict[str, Any] = {"reason": error.code, **extra}
    if error.field:
        fields["field"] = error.field
    if error.free_places is not None:
        fields["free_places"] = error.free_places
    return ClientError(code, error.message, **fields)


def _bookable(slug: str) -> Tour | None:
    return bookings.bookable_tours().filter(slug=slug).first()


def _new_proposal(
    session: ChatSession,
    tour: Tour,
    participants: int,
    origin: str,
    message: ChatMessage | None = None,
) -> BookingProposal:
    return BookingProposal.objects.create(
        session=session,
        tour=tour,
        participants=participants,
        origin=origin,
        message=message,
        expires_at=timezone.now() + PROPOSAL_TTL,
    )


@transaction.atomic
def request_card(*, session_pk: int, tour_slug: str, participants: int = 1) -> dict[str, Any]:
    """The tour page's «Забронировать»: a card for that tour, for the asking tab only."""
    session = ChatSession.objects.get(pk=session_pk)
    recent = BookingProposal.objects.filter(
        session=session,
        origin=BookingProposal.Origin.SITE,
        created_at__gt=timezone.now() - timedelta(hours=1),
    ).count()
    if recent >= MAX_REQUESTS_PER_HOUR:
        raise ClientError(
            "rate_limited",
            _("Too many booking cards in this chat; please try again later."),
            retry_after=3600,
            limit="bookings",
        )
    try:
        tour = bookings.check_bookable(_bookable(tour_slug), participants)
    except bookings.BookingError as error:
        raise _refusal(error) from None
    proposal = _new_proposal(session, tour, participants, BookingProposal.Origin.SITE)
    return proposal_frame(proposal, needs_contact=session.user_id is None)


def open_cards(*, session_pk: int) -> dict[str, Any]:
    """`booking_cards`: the chat's newest card still open (unused, unexpired, bookable).

    The widget asks after a reload, so that a card the visitor had not yet
    confirmed is back; at most one, as the widget shows one at a time.
    """
    proposal = (
        BookingProposal.objects.select_related("tour", "session")
        .filter(session_id=session_pk, booking__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at", "-id")
        .first()
    )
    cards = []
    if proposal is not None:
        try:
            bookings.check_bookable(_bookable(proposal.tour.slug), 1)
        except bookings.BookingError:
            pass
        else:
            needs_contact = proposal.session.user_id is None
            cards.append(proposal_frame(proposal, needs_contact=needs_contact))
    return {"type": "booking_cards", "cards": cards}


def propose_after_answer(
    session: ChatSession, message: ChatMessage, proposals: list[dict[str, Any]]
) -> None:
    """Cards the AI answer `message` proposed (from its meta); inside store_ai_answer's unit.

    `proposals` were checked by the tool or the offline answerer a moment
    ago; they are checked again here (the tour may have sold out meanwhile),
    and only the first one that still holds becomes a card.
    """
    origin = (
        BookingProposal.Origin.MODEL
        if message.ai_source != ChatMessage.AISource.OFFLINE
        else BookingProposal.Origin.OFFLINE
    )
    for item in proposals[:1]:
        slug, participants = item.get("tour"), item.get("participants")
        if not isinstance(slug, str) or not isinstance(participants, int):
            continue
        try:
            tour = bookings.check_bookable(_bookable(slug), participants)
        except bookings.BookingError:
            continue
        proposal = _new_proposal(session, tour, participants, origin, message)
        frame = proposal_frame(proposal, needs_contact=session.user_id is None)
        publish_on_commit(session_group(session.public_id), frame)


def _pending_holds(session_pk: int) -> int:
    return Booking.objects.filter(
        chat_proposal__session_id=session_pk,
        status=Booking.Status.PENDING,
        hold_expires_at__gt=timezone.now(),
    ).count()


def confirm_card(
    *,
    session_pk: int,
    proposal_id: uuid.UUID,
    idempotency_key: uuid.UUID,
    participants: int | None,
    name: str,
    phone: str,
    email: str,
) -> dict[str, Any]:
    """The visitor clicked «Подтвердить» on the card: make the booking (once per key).

    Authorised by the session: a proposal of another chat is `not_found`.
    A logged-in visitor books on their account; an anonymous one must give
    a name and a phone or an e-mail. Returns the `booking_created` frame for
    the asking tab; a new booking is also announced to the chat's group.
    """
    proposal = (
        BookingProposal.objects.select_related("tour", "session", "booking")
        .filter(public_id=proposal_id, session_id=session_pk)
        .first()
    )
    if proposal is None:
        raise ClientError("not_found", _("This booking offer was not found."))
    session = proposal.session
    count = participants if participants is not None else proposal.participants
    contact: bookings.Contact | None = None
    try:
        if session.user_id is None:
            contact = bookings.clean_contact(name, phone, email)
        replay = Booking.objects.filter(idempotency_key=idempotency_key).exists()
        if not replay:
            if proposal.booking_id is not None:
                raise bookings.BookingError(
                    "conflict", _("This booking offer has already been used.")
                )
            if proposal.expires_at <= timezone.now():
                raise bookings.BookingError(
                    "expired", _("This booking offer has expired; please ask again.")
                )
            if _pending_holds(session_pk) >= MAX_PENDING_PER_SESSION:
                raise bookings.BookingError(
                    "conflict",
                    _("This chat already holds %(count)d unconfirmed bookings.")
                    % {"count": MAX_PENDING_PER_SESSION},
                )
        result = _book(proposal, count, idempotency_key, session.user_id, contact)
    except bookings.BookingError as error:
        raise _refusal(error, proposal_id=str(proposal_id)) from None
    frame = booking_created_frame(proposal, result.booking)
    return frame


@transaction.atomic
def _book(
    proposal: BookingProposal,
    participants: int,
    key: uuid.UUID,
    user_id: int | None,
    contact: bookings.Contact | None,
) -> bookings.BookingResult:
    result = bookings.create_booking(
        tour_id=proposal.tour_id,
        participants=participants,
        idempotency_key=key,
        user_id=user_id,
        contact=contact,
    )
    if result.created:
        updated = BookingProposal.objects.filter(pk=proposal.pk, booking__isnull=True).update(
            booking=result.booking
        )
        if updated != 1:
            # Another key confirmed this card a moment ago: undo ours, whole.
            raise bookings.BookingError("conflict", _("This booking offer has already been used."))
        frame = booking_created_frame(proposal, result.booking)
        publish_on_commit(session_group(proposal.session.public_id), frame)
    return result


def _hold_message(booking: Booking) -> str:
    if booking.status != Booking.Status.PENDING or booking.hold_expires_at is None:
        return _("Booking %(reference)s: %(status)s.") % {
            "reference": booking.reference,
            "status": booking.get_status_display(),
        }
    until = timezone.localtime(booking.hold_expires_at)
    return _(
        "Booking %(reference)s is made. The places are held for you until %(time)s "
        "(%(minutes)d minutes); an operator will confirm it."
    ) % {
        "reference": booking.reference,
        "time": formats.time_format(until, "H:i"),
        "minutes": settings.BOOKING_HOLD_MINUTES,
    }


def booking_created_frame(proposal: BookingProposal, booking: Booking) -> dict[str, Any]:
    return {
        "type": "booking_created",
        "session_id": str(proposal.session.public_id),
        "proposal_id": str(proposal.public_id),
        "booking": booking_data(booking),
        "message": _hold_message(booking),
    }


def _announce_update(booking: Booking) -> None:
    proposal = BookingProposal.objects.filter(booking=booking).select_related("session").first()
    if proposal is None:
        return
    frames = {
        Booking.Status.CONFIRMED: _("Booking %(reference)s is confirmed. See you on the tour!"),
        Booking.Status.CANCELLED: _("Booking %(reference)s is cancelled."),
        Booking.Status.EXPIRED: _(
            "The hold of booking %(reference)s has expired and the places were released."
        ),
    }
    text = frames.get(booking.status)  # type: ignore[call-overload]
    publish_on_commit(
        session_group(proposal.session.public_id),
        {
            "type": "booking_updated",
            "session_id": str(proposal.session.public_id),
            "booking": booking_data(booking),
            "message": (text or "") % {"reference": booking.reference},
        },
    )


@transaction.atomic
def operator_confirm(*, reference: str, operator_id: int) -> Booking:
    """The dashboard's «Подтвердить»: confirm a pending booking, tell its chat."""
    booking = Booking.objects.filter(reference=reference).first()
    if booking is None:
        raise ClientError("not_found", _("There is no such booking."))
    try:
        confirmed = bookings.confirm_booking(booking_id=booking.pk, by_user_id=operator_id)
    except bookings.BookingError as error:
        raise _refusal(error) from None
    if confirmed.status == Booking.Status.CONFIRMED:
        _announce_update(confirmed)
    return confirmed


@transaction.atomic
def operator_cancel(*, reference: str) -> Booking:
    """The dashboard's «Отменить»: cancel the booking, release its places, tell its chat."""
    booking = Booking.objects.filter(reference=reference).first()
    if booking is None:
        raise ClientError("not_found", _("There is no such booking."))
    try:
        cancelled, changed = bookings.cancel_booking(booking_id=booking.pk)
    except bookings.BookingError as error:
        raise _refusal(error) from None
    if changed:
        _announce_update(cancelled)
    return cancelled


@transaction.atomic
def expire_holds() -> int:
    """The sweep (support_sweeper): expire overdue holds and tell their chats."""
    expired = bookings.expire_holds()
    for booking in Booking.objects.filter(pk__in=expired).select_related("tour"):
        _announce_update(booking)
    return len(expired)


def session_bookings(session_pk: int) -> list[dict[str, Any]]:
    """The bookings made in this chat, newest first (the operator's side panel)."""
    rows = (
        Booking.objects.filter(chat_proposal__session_id=session_pk)
        .select_related("tour")
        .order_by("-created_at")
    )
    return [booking_data(b) for b in rows]


def proposals_by_message(session_pk: int) -> dict[int, dict[str, Any]]:
    """Per AI message id, the card it proposed and what became of it (the transcript)."""
    rows = (
        BookingProposal.objects.filter(session_id=session_pk, message__isnull=False)
        .select_related("tour", "booking")
        .order_by("id")
    )
    result: dict[int, dict[str, Any]] = {}
    for proposal in rows:
        assert proposal.message_id is not None
        result[proposal.message_id] = {
            "proposal_id": str(proposal.public_id),
            "tour": {"slug": proposal.tour.slug, "title": proposal.tour.title},
            "participants": proposal.participants,
            "booking": proposal.booking.reference if proposal.booking else None,
        }
    return result


# --- The socket's flows (chat/consumers.py delegates to these) ------------------------------


async def do_request_card(*, session_pk: int, tour_slug: str, participants: int = 1) -> Frame:
    """`booking_request`: `request_card` in one DB hop; the card goes to the asking tab only."""
    return await run_action(
        request_card, session_pk=session_pk, tour_slug=tour_slug, participants=participants
    )


async def do_confirm_card(
    *,
    session_pk: int,
    proposal_id: uuid.UUID,
    idempotency_key: uuid.UUID,
    participants: int | None,
    name: str,
    phone: str,
    email: str,
    origin: str | None = None,
) -> Frame:
    """`confirm_booking`: the contact checked, `confirm_card` in one DB hop, then announced.

    The chat group learns of a new booking; `origin`, the asking socket,
    gets the returned `booking_created` instead.
    """
    guards.check_text(name)
    card = partial(
        confirm_card,
        session_pk=session_pk,
        proposal_id=proposal_id,
        idempotency_key=idempotency_key,
        participants=participants,
        name=name,
        phone=phone,
        email=email,
    )
    if origin is None:
        return await run_action(card)
    return await run_action_from(origin, card)


async def do_open_cards(*, session_pk: int) -> Frame:
    """`booking_cards`: `open_cards` in one DB hop (a read; nothing announced)."""
    return await run_action(open_cards, session_pk=session_pk)
