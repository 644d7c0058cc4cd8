"""Visitor tokens and the wall between visitors' chats."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from tests.factories import VisitorSocket, new_client_id
from tests.security.conftest import send_and_settle

pytestmark = pytest.mark.django_db(transaction=True)


async def test_tokens_are_long_random_and_unrelated_to_the_public_id(visitor):
    sockets = [await visitor() for _ in range(20)]
    tokens = {s.token for s in sockets}
    assert len(tokens) == 20
    for socket in sockets:
        token, public = socket.token, uuid.UUID(socket.session_id)
        assert len(token) >= 43  # 32 random bytes, URL-safe base64
        assert len(set(token)) >= 16
        derived = {
            public.hex,
            str(public),
            hashlib.sha256(public.bytes).hexdigest(),
            hashlib.sha256(str(public).encode()).hexdigest(),
            base64.urlsafe_b64encode(public.bytes).decode().rstrip("="),
        }
        assert not any(token in d or d in token for d in derived)


def _row_text(public_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM chat_chatsession WHERE public_id = %s", [public_id])
        return repr(cursor.fetchone())


async def test_only_the_tokens_hash_is_stored(visitor):
    from asgiref.sync import sync_to_async

    socket = await visitor()
    row = await sync_to_async(_row_text)(socket.session_id)
    assert socket.token not in row
    assert hashlib.sha256(socket.token.encode()).hexdigest() in row


async def test_an_expired_token_starts_a_new_session_without_the_old_history(visitor):
    old = await visitor()
    assert (await send_and_settle(old, "Старый вопрос"))["type"] == "message_ack"
    await ChatSession.objects.filter(public_id=old.session_id).aupdate(
        token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    again = await visitor(token=old.token, after=0)
    assert again.session_id != old.session_id
    assert again.token != old.token
    assert again.registered["messages"] == []


async def test_the_public_session_id_is_not_a_token(visitor):
    victim = await visitor()
    assert (await send_and_settle(victim, "Мой номер брони TT-12345"))["type"] == "message_ack"
    intruder = await visitor(token=victim.session_id, after=0)
    assert intruder.session_id != victim.session_id
    assert intruder.registered["messages"] == []


async def test_a_visitor_never_sees_anothers_chat(visitor):
    victim = await visitor()
    intruder = await visitor()
    victim_ack = await send_and_settle(victim, "Паспорт 92 00 123456")
    # The intruder reuses the victim's client_id: it is a new message of the
    # intruder's own session, never the victim's.
    intruder_ack = await send_and_settle(intruder, "Паспорт 92 00 123456", victim_ack["client_id"])
    assert intruder_ack["type"] == "message_ack"
    assert intruder_ack["id"] != victim_ack["id"]
    # Live events of the victim's chat never reach the intruder's socket.
    await send_and_settle(victim, "Ещё одна тайна")
    frames = []
    while not await intruder.nothing_more(timeout=1):
        frames.append(await intruder.receive())
    assert all("тайна" not in str(f) for f in frames)
    victim_texts = {
        m.text async for m in ChatMessage.objects.filter(session__public_id=victim.session_id)
    }
    intruder_texts = {
        m.text async for m in ChatMessage.objects.filter(session__public_id=intruder.session_id)
    }
    assert "Ещё одна тайна" in victim_texts
    assert "Ещё одна тайна" not in intruder_texts


async def test_a_logged_in_visitors_token_is_useless_to_another_user(django_user_model):
    from asgiref.sync import sync_to_async

    alice = await sync_to_async(django_user_model.objects.create_user)("alice", password="x" * 12)
    bob = await sync_to_async(django_user_model.objects.create_user)("bob", password="y" * 12)

    alices = await VisitorSocket.logged_in_as(alice)
    await alices.register()
    await send_and_settle(alices, "Бронь на имя Алисы")
    bobs = await VisitorSocket.logged_in_as(bob)
    await bobs.register(token=alices.token, after=0)
    assert bobs.session_id != alices.session_id
    assert bobs.registered["messages"] == []
    await alices.close()
    await bobs.close()


async def test_messages_need_a_registered_session(visitor):
    socket = await VisitorSocket.open()
    await socket.say("Привет", new_client_id())
    frame = await socket.expect("error")
    assert frame["code"] == "invalid"
    assert not await ChatMessage.objects.aexists()
    await socket.close()
