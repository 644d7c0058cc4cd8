"""The support flows called from outside a socket do every step a socket's click does.

A view, the admin or a command that takes, closes or transfers a chat, edits
a ticket or deletes a chat must announce what a dashboard click announces:
the queue to operators and waiting visitors, the operators list, the ticket.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat import actions as chat_actions
from chat.models import ChatSession
from chat.typing_gate import TypingGate
from support import actions, flows
from support.models import OfflineTicket, SupportRequest
from support.tickets import TicketFields
from tests.support.flows import in_conversation, queued_visitor, until_matching

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_client(django_user_model: Any) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("root", password=None))
    return client


async def test_a_chat_taken_outside_a_socket_is_announced_like_a_click(visitor, operator):
    alia = await operator(name="Алия")
    bulat = await operator(name="Булат")
    guest = await queued_visitor(visitor)

    claim = await flows.do_join_support_chat(operator_id=alia.user_id, session_id=guest.session_id)

    assert claim.session_id == guest.session_id and not claim.already_held
    joined = await until_matching(alia, "support_chat_joined", session_id=guest.session_id)
    assert joined["messages"]
    await guest.until("support_joined")
    await until_matching(bulat, "support_request_taken", session_id=guest.session_id)
    # The queue announcement (the step the consumer used to do itself).
    queue = await until_matching(bulat, "queue", requests=[])
    assert [a["session_id"] for a in queue["assigned"]] == [guest.session_id]


async def test_a_chat_closed_outside_a_socket_releases_it_everywhere(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)

    await flows.do_close_chat(operator_id=alia.user_id, session_id=guest.session_id)

    closed, _ = await guest.until("chat_closed")
    assert closed["by"] == "operator"
    await until_matching(alia, "chat_closed", session_id=guest.session_id)
    await until_matching(alia, "queue", assigned=[])
    session = await ChatSession.objects.aget(public_id=guest.session_id)
    assert session.status == ChatSession.Status.CLOSED


async def test_a_transfer_outside_a_socket_refreshes_every_dashboards_operator_list(
    visitor, operator
):
    guest, alia = await in_conversation(visitor, operator, name="Алия")
    bulat = await operator(name="Булат")

    ref = await flows.do_transfer_chat(
        operator_id=alia.user_id, session_id=guest.session_id, to_operator_id=bulat.user_id
    )

    assert ref["name"] == "Булат"
    await until_matching(bulat, "support_chat_joined", session_id=guest.session_id)
    await until_matching(alia, "chat_transferred", session_id=guest.session_id)
    for dashboard in (alia, bulat):
        while True:
            listed = await until_matching(dashboard, "operators")
            chats = {o["name"]: o["chats"] for o in listed["operators"]}
            if chats.get("Булат") == 1:
                break
        assert chats["Алия"] == 0


async def test_the_visitor_line_ends_support_outside_a_socket_and_the_queue_moves_up(
    visitor, operator
):
    alia = await operator()
    first = await queued_visitor(visitor)
    second = await queued_visitor(visitor)  # told position 2
    session = await ChatSession.objects.aget(public_id=first.session_id)

    assert await flows.do_end_support(session_pk=session.pk) == "cancelled"

    await until_matching(second, "support_pending", position=1)
    await until_matching(alia, "support_request_taken", session_id=first.session_id)


async def test_a_ticket_edited_in_the_admin_reaches_every_dashboard(operator, django_user_model):
    alia = await operator()
    ticket = await sync_to_async(actions.create_offline_ticket)(
        fields=TicketFields(name="Ильдар", phone="+79991234567", email="", question="Елабуга?")
    )
    await until_matching(alia, "new_offline_ticket")
    client = await sync_to_async(_admin_client)(django_user_model)

    response = await sync_to_async(client.post)(
        f"/admin/support/offlineticket/{ticket.pk}/change/",
        {"status": OfflineTicket.Status.DONE, "handled_by": "", "_save": "1"},
    )

    assert response.status_code == 302, response.content[:500]
    updated = await until_matching(alia, "offline_ticket_updated")
    assert updated["ticket"]["id"] == ticket.pk
    assert updated["ticket"]["status"] == OfflineTicket.Status.DONE


async def test_a_waiting_chat_deleted_in_the_admin_leaves_the_queue_for_everyone(
    visitor, operator, django_user_model
):
    alia = await operator()
    first = await queued_visitor(visitor)
    second = await queued_visitor(visitor)  # told position 2
    session = await ChatSession.objects.aget(public_id=first.session_id)
    client = await sync_to_async(_admin_client)(django_user_model)

    response = await sync_to_async(client.post)(
        f"/admin/chat/chatsession/{session.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302, response.content[:500]
    assert not await SupportRequest.objects.filter(session_id=session.pk).aexists()
    taken = await until_matching(alia, "support_request_taken", session_id=first.session_id)
    assert taken["reason"] == "cancelled"
    await until_matching(second, "support_pending", position=1)
    queue = await until_matching(alia, "queue", total=1)
    assert [r["session_id"] for r in queue["requests"]] == [second.session_id]


async def test_an_open_support_request_cannot_be_deleted_alone_in_the_admin(
    visitor, operator, django_user_model
):
    """Deleting only the record would leave the visitor waiting for nobody (or the
    chat held by an operator who no longer has it): the admin refuses, saying why;
    a closed one is deleted (retention)."""
    guest, alia = await in_conversation(visitor, operator)
    waiting = await queued_visitor(visitor)
    held = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    queued = await SupportRequest.objects.aget(session__public_id=waiting.session_id)
    client = await sync_to_async(_admin_client)(django_user_model)

    page = await sync_to_async(client.get)(f"/admin/support/supportrequest/{held.pk}/delete/")
    assert "закройте чат" in page.content.decode()
    refused = await sync_to_async(client.post)(
        f"/admin/support/supportrequest/{held.pk}/delete/", {"post": "yes"}
    )
    assert refused.status_code == 403
    bulk = await sync_to_async(client.post)(
        "/admin/support/supportrequest/",
        {"action": "delete_selected", "_selected_action": [queued.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert await SupportRequest.objects.filter(pk__in=[held.pk, queued.pk]).acount() == 2

    await flows.do_close_chat(operator_id=alia.user_id, session_id=guest.session_id)
    deleted = await sync_to_async(client.post)(
        f"/admin/support/supportrequest/{held.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not await SupportRequest.objects.filter(pk=held.pk).aexists()


async def test_typing_is_relayed_by_the_action_as_its_gate_admits(visitor, operator):
    """The typing flows: the socket's gate decides, the action relays to the chat."""
    guest, alia = await in_conversation(visitor, operator)
    gate = TypingGate()

    await flows.do_operator_typing(session_id=guest.session_id, typing=True, gate=gate)
    await flows.do_operator_typing(session_id=guest.session_id, typing=True, gate=gate)  # repeat
    await flows.do_operator_typing(session_id=guest.session_id, typing=False, gate=gate)

    started, _ = await guest.until("operator_typing")
    assert started["typing"] is True
    # The next typing frame is the stop: the repeat within 3 s was dropped.
    stopped, _ = await guest.until("operator_typing")
    assert stopped["typing"] is False

    await chat_actions.do_visitor_typing(
        session_public_id=guest.session_id, typing=True, gate=TypingGate()
    )
    seen = await until_matching(alia, "visitor_typing", session_id=guest.session_id)
    assert seen["typing"] is True
