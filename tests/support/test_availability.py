"""Nobody to answer: support_unavailable and offline tickets (socket and HTTP)."""

from __future__ import annotations

import json
from datetime import time

import pytest
from django.test import AsyncClient

from chat.models import ChatSession
from support.models import OfflineTicket, SupportRequest

pytestmark = pytest.mark.django_db(transaction=True)

TICKET = {"name": "Ильдар", "phone": "+7 (999) 123-45-67", "question": "Есть ли туры в Елабугу?"}


async def test_nobody_online_means_support_unavailable_and_no_queue(visitor):
    guest = await visitor()
    await guest.send({"type": "request_support"})
    unavailable, _ = await guest.until("support_unavailable")
    assert unavailable["reason"] == "no_operators"
    assert unavailable["offline_form"] is True
    assert unavailable["message"]
    assert not await SupportRequest.objects.aexists()
    assert (await ChatSession.objects.aget()).status == "ai"


async def test_an_away_operator_does_not_count_as_online(visitor, operator):
    alia = await operator()
    await alia.send({"type": "set_status", "status": "away"})
    status, _ = await alia.until("operator_status")
    assert status["status"] == "away"
    guest = await visitor()
    await guest.send({"type": "request_support"})
    unavailable, _ = await guest.until("support_unavailable")
    assert unavailable["reason"] == "no_operators"

    await alia.send({"type": "set_status", "status": "online"})
    await alia.until("operator_status")
    await guest.send({"type": "request_support"})
    await guest.until("support_pending")


async def test_outside_working_hours_means_support_unavailable(visitor, operator, settings):
    await operator()
    # No working day at all: whatever the time, it is outside the hours.
    settings.SUPPORT_WORKING_DAYS = frozenset()
    settings.SUPPORT_WORKING_HOURS = (time(9, 0), time(21, 0))
    guest = await visitor()
    await guest.send({"type": "request_support"})
    unavailable, _ = await guest.until("support_unavailable")
    assert unavailable["reason"] == "outside_hours"
    assert unavailable["working_hours"] == "09:00–21:00"
    # The sentence the footer and the FAQ say too (no working day at all here).
    assert unavailable["message"].startswith("Сейчас операторы не принимают обращения.")


async def test_a_visitor_leaves_an_offline_ticket_over_the_socket(visitor, operator):
    alia = await operator()
    guest = await visitor()
    await guest.send({"type": "offline_ticket", **TICKET})
    saved, _ = await guest.until("offline_ticket_saved")
    ticket = await OfflineTicket.objects.select_related("session").aget(pk=saved["id"])
    assert (ticket.name, ticket.phone, ticket.question) == (
        TICKET["name"],
        TICKET["phone"],
        TICKET["question"],
    )
    assert ticket.session is not None and str(ticket.session.public_id) == guest.session_id
    shown, _ = await alia.until("new_offline_ticket")
    assert shown["ticket"]["id"] == ticket.pk
    assert shown["ticket"]["status"] == "new"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "email": "a@b.ru", "question": "?"}, "name"),
        ({"name": "Ильдар", "question": "?"}, "phone"),
        ({"name": "Ильдар", "email": "не почта", "question": "?"}, "email"),
        ({"name": "Ильдар", "phone": "12", "question": "?"}, "phone"),
        ({"name": "Ильдар", "email": "a@b.ru", "question": "  "}, "question"),
        ({"name": "Ильдар", "email": "a@b.ru", "question": "x" * 2001}, "question"),
    ],
)
async def test_an_incomplete_ticket_is_refused_with_the_field(visitor, fields, field):
    guest = await visitor()
    await guest.send({"type": "offline_ticket", **fields})
    refused, _ = await guest.until("error")
    assert refused["code"] == "invalid"
    assert refused["field"] == field
    assert not await OfflineTicket.objects.aexists()


async def test_the_ticket_form_endpoint_stores_a_ticket_from_the_site(operator):
    alia = await operator()
    client = AsyncClient()
    response = await client.post(
        "/support/offline-ticket/",
        data=json.dumps({"name": "Алсу", "email": "alsu@example.ru", "question": "Скидки?"}),
        content_type="application/json",
        headers={"origin": "http://testserver"},
    )
    assert response.status_code == 201
    ticket = await OfflineTicket.objects.aget(pk=response.json()["id"])
    assert ticket.email == "alsu@example.ru"
    shown, _ = await alia.until("new_offline_ticket")
    assert shown["ticket"]["name"] == "Алсу"


async def test_the_ticket_form_links_the_chat_of_a_visitor_token(visitor):
    guest = await visitor()
    response = await AsyncClient().post(
        "/support/offline-ticket/",
        data=json.dumps({**TICKET, "token": guest.token}),
        content_type="application/json",
        headers={"origin": "http://testserver"},
    )
    assert response.status_code == 201
    ticket = await OfflineTicket.objects.select_related("session").aget()
    assert ticket.session is not None and str(ticket.session.public_id) == guest.session_id


@pytest.mark.parametrize("origin", [None, "null", "https://evil.example"])
async def test_the_ticket_form_refuses_other_origins(origin):
    headers = {"origin": origin} if origin else {}
    response = await AsyncClient().post(
        "/support/offline-ticket/",
        data=json.dumps(TICKET),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403
    assert not await OfflineTicket.objects.aexists()


async def test_the_ticket_form_explains_what_is_wrong():
    response = await AsyncClient().post(
        "/support/offline-ticket/",
        data=json.dumps({"name": "Алсу", "question": "?"}),
        content_type="application/json",
        headers={"origin": "http://testserver"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "phone"
    bad_json = await AsyncClient().post(
        "/support/offline-ticket/",
        data="{nope",
        content_type="application/json",
        headers={"origin": "http://testserver"},
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == "invalid_json"


async def test_operators_move_tickets_along(operator, visitor):
    alia = await operator()
    guest = await visitor()
    await guest.send({"type": "offline_ticket", **TICKET})
    saved, _ = await guest.until("offline_ticket_saved")
    await alia.send({"type": "set_ticket_status", "ticket_id": saved["id"], "status": "done"})
    updated, _ = await alia.until("offline_ticket_updated")
    assert updated["ticket"]["status"] == "done"
    ticket = await OfflineTicket.objects.aget()
    assert ticket.status == "done" and ticket.handled_by_id == alia.user_id
