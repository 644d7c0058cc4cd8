"""The operator's message carries its own access re-check (one statement with the message):
a loss no signal announces still stops the next message, and nothing of it is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.utils import timezone

from chat.models import ChatMessage
from support.access import PERMISSION
from support.operators import operators_group
from tests.factories import OperatorSocket, make_site_user
from tests.support.flows import in_conversation, queued_visitor

pytestmark = pytest.mark.django_db(transaction=True)


async def close_code(socket: OperatorSocket, timeout: float = 10) -> int:
    """Frames already on their way are skipped; the code the server closed with."""
    while True:
        output = await socket.communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            await socket.close()
            return int(output["code"])


async def acked(socket: OperatorSocket, client_id: str) -> dict[str, Any]:
    while True:
        frame, _skipped = await socket.until("message_ack")
        if frame["client_id"] == client_id:
            return dict(frame)


def users() -> Any:
    return get_user_model().objects


async def lose(kind: str, user_id: int) -> None:
    """Take the operator's access away as a script or a DBA would: no model signal."""
    if kind == "not_staff":
        await users().filter(pk=user_id).aupdate(is_staff=False)
    elif kind == "deactivated":
        await users().filter(pk=user_id).aupdate(is_active=False)
    elif kind == "password":
        await users().filter(pk=user_id).aupdate(password="pbkdf2_sha256$1$x$changed")
    elif kind == "group":
        membership = get_user_model().groups.through
        group = await operators_group_async()
        await membership.objects.filter(user_id=user_id, group=group).adelete()
    elif kind == "session_expired":
        past = timezone.now() - timedelta(minutes=1)
        await Session.objects.aupdate(expire_date=past)
    elif kind == "session_deleted":
        await Session.objects.all().adelete()
    elif kind == "group_permission":
        group = await operators_group_async()
        granted = Group.permissions.through
        await granted.objects.filter(group=group, permission=await operate_permission()).adelete()
    elif kind == "permission_renamed":
        await Permission.objects.filter(pk=(await operate_permission()).pk).aupdate(
            codename="renamed_by_a_script"
        )
    else:
        raise AssertionError(kind)


async def operate_permission() -> Permission:
    app_label, codename = PERMISSION.split(".")
    return await Permission.objects.aget(content_type__app_label=app_label, codename=codename)


async def operators_group_async() -> Any:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(operators_group)()


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("not_staff", 4403),
        ("group", 4403),
        ("deactivated", 4401),
        ("password", 4401),
        ("session_expired", 4401),
        ("session_deleted", 4401),
        ("group_permission", 4403),
        ("permission_renamed", 4403),
    ],
)
async def test_an_unsignalled_loss_stops_the_next_message(visitor, operator, kind, code):
    guest, alia = await in_conversation(visitor, operator)
    first = await alia.say(guest.session_id, "Здравствуйте, чем помочь?")
    await acked(alia, first)  # the socket's access was decided once, with this message
    await lose(kind, alia.user_id)
    second = await alia.say(guest.session_id, "Уже без доступа")
    assert await close_code(alia) == code
    assert await ChatMessage.objects.filter(client_id=first).aexists()
    assert not await ChatMessage.objects.filter(client_id=second).aexists()


async def test_a_retry_after_the_loss_is_refused_too(visitor, operator):
    guest, alia = await in_conversation(visitor, operator)
    first = await alia.say(guest.session_id, "Здравствуйте")
    await acked(alia, first)
    await lose("not_staff", alia.user_id)
    await alia.say(guest.session_id, "Здравствуйте", client_id=first)
    assert await close_code(alia) == 4403


async def test_a_superuser_without_the_group_may_write(visitor, operator):
    from channels.db import database_sync_to_async

    root = await database_sync_to_async(make_site_user)(is_superuser=True, is_staff=True)
    chief = await operator(root)
    guest = await queued_visitor(visitor)
    await chief.join(guest.session_id)
    await chief.until("support_chat_joined", session_id=guest.session_id)
    client_id = await chief.say(guest.session_id, "Добрый день")
    ack = await acked(chief, client_id)
    frame, _ = await guest.until("operator_message")
    assert frame["id"] == ack["id"] and frame["message"] == "Добрый день"
    # A second message: decided by the statement alone, with the grant of the first.
    again = await chief.say(guest.session_id, "Я здесь")
    assert (await acked(chief, again))["id"] > ack["id"]


async def test_a_superuser_made_an_ordinary_user_stops_the_next_message(visitor, operator):
    from channels.db import database_sync_to_async

    root = await database_sync_to_async(make_site_user)(is_superuser=True, is_staff=True)
    chief = await operator(root)
    guest = await queued_visitor(visitor)
    await chief.join(guest.session_id)
    await chief.until("support_chat_joined", session_id=guest.session_id)
    first = await chief.say(guest.session_id, "Добрый день")
    await acked(chief, first)
    await users().filter(pk=root.pk).aupdate(is_superuser=False)
    second = await chief.say(guest.session_id, "Уже без прав")
    assert await close_code(chief) == 4403
    assert not await ChatMessage.objects.filter(client_id=second).aexists()


async def test_a_permission_made_anew_and_granted_again_still_lets_the_operator_write(
    visitor, operator
):
    """The grant names the permission by its id: a new row (another id) is decided afresh."""
    guest, alia = await in_conversation(visitor, operator)
    first = await alia.say(guest.session_id, "Здравствуйте")
    await acked(alia, first)
    old = await operate_permission()
    content_type_id, name, codename = old.content_type_id, old.name, old.codename
    await old.adelete()
    await Permission.objects.acreate(content_type_id=content_type_id, name=name, codename=codename)
    await operators_group_async()  # grants the operators' permissions again, the new row too
    second = await alia.say(guest.session_id, "Я всё ещё здесь")
    assert (await acked(alia, second))["id"] > 0
    assert await ChatMessage.objects.filter(client_id=second).aexists()
