"""An operator's open socket loses its power with the operator: logout, deactivation,
or losing the support permission close it (4401/4403), and every privileged
action re-checks access first, so a change no signal sees holds too."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from support.models import SupportRequest
from support.operators import operators_group
from tests.factories import OperatorSocket, make_operator
from tests.support.flows import queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def logged_in_operator() -> tuple[Any, Client, OperatorSocket]:
    """An operator logged in through a browser session, with the dashboard's socket open."""
    user = await database_sync_to_async(make_operator)()
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    socket = await OperatorSocket.open(cookie=client.cookies[settings.SESSION_COOKIE_NAME].value)
    socket.state = await socket.expect("operator_state")
    socket.queue = await socket.expect("queue")
    return user, client, socket


async def close_code(socket: OperatorSocket, timeout: float = 10) -> int:
    """Frames already on their way are skipped; the code the server closed with."""
    while True:
        output = await socket.communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            await socket.close()  # the app ends now, not cancelled at loop close
            return int(output["code"])


async def test_logging_out_closes_the_sessions_sockets_with_4401():
    _user, client, socket = await logged_in_operator()
    response = await database_sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await close_code(socket) == 4401


async def test_deactivating_the_operator_closes_their_socket_with_4401():
    user, _client, socket = await logged_in_operator()
    user.is_active = False
    await database_sync_to_async(user.save)()
    assert await close_code(socket) == 4401


async def test_leaving_the_operators_group_closes_their_socket_with_4403():
    user, _client, socket = await logged_in_operator()
    await database_sync_to_async(lambda: user.groups.remove(operators_group()))()
    assert await close_code(socket) == 4403


async def test_an_unsignalled_loss_of_access_stops_the_next_action(visitor):
    """A queryset update sends no signal: the join itself re-checks, and takes nothing."""
    user, _client, socket = await logged_in_operator()
    guest = await queued_visitor(visitor)
    await get_user_model().objects.filter(pk=user.pk).aupdate(is_staff=False)
    await socket.join(guest.session_id)
    assert await close_code(socket) == 4403
    request = await SupportRequest.objects.aget(session__public_id=guest.session_id)
    assert request.operator_id is None
