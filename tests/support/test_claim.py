"""Taking a chat: exactly one winner, the transcript and context, everyone told."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from chat.models import ChatMessage, ChatSession
from support.models import SupportRequest
from tests.factories import VisitorSocket, make_site_user, make_tour, session_cookie
from tests.support.flows import queued_visitor
from tours.models import Booking

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_winner_gets_the_whole_transcript_and_the_visitor_its_name(visitor, operator):
    alia = await operator(name="Алия")
    guest = await queued_visitor(visitor)
    await alia.join(guest.session_id)

    joined, seen = await alia.until("support_chat_joined")
    assert joined["session_id"] == guest.session_id
    # The transcript ends with the notice the visitor is shown (a system message).
    assert [m["author"] for m in joined["messages"]] == ["visitor", "ai", "system"]
    assert joined["messages"][-1]["message"] == "Алия подключается к чату."
    assert joined["messages"][0]["message"] == "Сколько стоит тур?"
    assert joined["request"]["reason"] == "Хочу живого человека"
    assert joined["visitor"]["user"] is None

    support_joined, _ = await guest.until("support_joined")
    assert support_joined["operator"] == {"name": "Алия"}
    # The winner's socket opens the chat directly, before the broadcast arrives.
    assert "support_request_taken" not in [f["type"] for f in seen]
    taken, _ = await alia.until("support_request_taken")
    assert taken["session_id"] == guest.session_id
    assert taken["operator"]["name"] == "Алия"

    request = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert request.status == SupportRequest.Status.ASSIGNED
    assert request.operator_id == alia.user_id
    assert request.assigned_at is not None
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    assert session.status == ChatSession.Status.OPERATOR


async def test_the_losers_get_already_taken_and_everyone_support_request_taken(visitor, operator):
    alia, bulat = await operator(name="Алия"), await operator(name="Булат")
    guest = await queued_visitor(visitor)
    await alia.join(guest.session_id)
    await alia.until("support_chat_joined")
    await bulat.join(guest.session_id)

    refused, seen = await bulat.until("error")
    assert refused["code"] == "already_taken"
    assert refused["session_id"] == guest.session_id
    assert any(
        f["type"] == "support_request_taken" and f["operator"]["name"] == "Алия" for f in seen
    )
    assert not any(f["type"] == "support_chat_joined" for f in seen)


async def test_the_operator_sees_the_tour_and_a_logged_in_visitors_bookings(visitor, operator):
    tour = await database_sync_to_async(make_tour)()
    user = await database_sync_to_async(make_site_user)("guest", first_name="Гузель")
    await Booking.objects.acreate(
        tour=tour, user=user, contact_name="Гузель", phone="+79990000000", participants=2
    )
    cookie = await database_sync_to_async(session_cookie)(user)
    alia = await operator()
    guest = await VisitorSocket.open(headers=[(b"cookie", f"sessionid={cookie}".encode())])
    try:
        await guest.register(tour=tour.slug)
        await guest.send({"type": "request_support"})
        await guest.until("support_pending")
        await alia.join(guest.session_id)
        joined, _ = await alia.until("support_chat_joined")
    finally:
        await guest.close()
    assert joined["tour"]["slug"] == tour.slug
    assert joined["tour"]["free_places"] == tour.free_places
    assert joined["visitor"]["user"]["name"] == "Гузель"
    [booking] = joined["visitor"]["bookings"]
    assert booking["tour_slug"] == tour.slug
    assert booking["participants"] == 2


async def test_joining_an_unknown_chat_is_not_found(operator):
    alia = await operator()
    await alia.join("00000000-0000-4000-8000-000000000000")
    refused, _ = await alia.until("error")
    assert refused["code"] == "not_found"


async def test_an_operator_cannot_hold_more_chats_than_their_capacity(visitor, operator):
    alia = await operator(max_chats=1)
    first = await queued_visitor(visitor)
    second = await queued_visitor(visitor)
    await alia.join(first.session_id)
    await alia.until("support_chat_joined")
    await alia.join(second.session_id)
    refused, _ = await alia.until("error")
    assert refused["code"] == "forbidden"
    assert refused["reason"] == "capacity"
    assert await SupportRequest.objects.filter(status="waiting").acount() == 1


async def test_joining_again_reopens_the_chat_for_the_holder(visitor, operator):
    alia = await operator()
    guest = await queued_visitor(visitor)
    await alia.join(guest.session_id)
    await alia.until("support_chat_joined")
    await alia.join(guest.session_id)
    again, _ = await alia.until("support_chat_joined")
    assert again["session_id"] == guest.session_id
    assert await ChatMessage.objects.filter(author="operator").acount() == 0
