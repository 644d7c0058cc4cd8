"""Spam: the same text repeated, link floods, and many sockets from one place."""

from __future__ import annotations

import pytest

from chat.guards import CLOSE_RATE_LIMITED
from chat.models import ChatMessage
from tests.factories import VisitorSocket
from tests.security.conftest import open_socket, send_and_settle
from tests.wsclient import received

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_same_text_a_fourth_time_in_two_minutes_is_throttled(visitor_from):
    socket = await visitor_from()
    for _ in range(3):
        assert (await send_and_settle(socket, "Есть скидки?"))["type"] == "message_ack"
    # Case and spacing do not make it another text.
    refused = await send_and_settle(socket, "  есть   СКИДКИ? ")
    assert refused["code"] == "rate_limited"
    assert refused["limit"] == "repeat"
    assert 1 <= refused["retry_after"] <= 120
    assert await ChatMessage.objects.filter(author="visitor").acount() == 3
    # Another text goes through.
    assert (await send_and_settle(socket, "А для детей?"))["type"] == "message_ack"


@pytest.mark.parametrize("tail", ["\u200b", "\u3164", "\ufeff", "\u2060\u200d"])
async def test_invisible_characters_do_not_make_another_text(visitor_from, tail):
    socket = await visitor_from()
    for n in range(3):
        frame = await send_and_settle(socket, "Есть скидки?" + tail * n)
        assert frame["type"] == "message_ack"
    refused = await send_and_settle(socket, "Есть\u200b скидки?" + tail * 3)
    assert (refused["code"], refused["limit"]) == ("rate_limited", "repeat")


async def test_repeats_are_counted_per_session(visitor_from):
    first = await visitor_from()
    second = await visitor_from()
    for _ in range(3):
        assert (await send_and_settle(first, "Здравствуйте"))["type"] == "message_ack"
    assert (await send_and_settle(second, "Здравствуйте"))["type"] == "message_ack"


async def test_a_message_with_many_links_is_refused_as_moderated(visitor_from):
    socket = await visitor_from()
    spam = "Дёшево! https://a.example.com www.b-shop.ru c.xyz/buy d.top"
    refused = await send_and_settle(socket, spam)
    assert refused["code"] == "moderated"
    assert not await ChatMessage.objects.filter(author="visitor").aexists()
    # One link to a tour page is an ordinary question.
    frame = await send_and_settle(socket, "Вот этот тур: https://tatartours.ru/tours/kazan/")
    assert frame["type"] == "message_ack"


async def test_links_spread_over_messages_are_throttled(visitor_from, settings):
    settings.CHAT_LINK_LIMIT = 6
    socket = await visitor_from()
    for n in range(3):
        text = f"Смотрите {n}: https://x{n}.example.com и https://y{n}.example.com"
        assert (await send_and_settle(socket, text))["type"] == "message_ack"
    refused = await send_and_settle(socket, "И ещё https://z.example.com")
    assert refused["code"] == "rate_limited"
    assert refused["limit"] == "links"
    # Messages without links still pass.
    assert (await send_and_settle(socket, "Ладно, без ссылок"))["type"] == "message_ack"


async def test_an_ip_opening_many_sockets_is_refused_with_4429(settings):
    settings.CHAT_CONNECTIONS_PER_MINUTE = 5
    opened = []
    for _ in range(5):
        communicator, accepted, _ = await open_socket(ip="203.0.113.50")
        assert accepted
        opened.append(communicator)
    communicator, accepted, _ = await open_socket(ip="203.0.113.50")
    # Accepted, told why, then closed: the client can tell it from a network error.
    assert accepted
    error = received("visitor", await communicator.receive_json_from(timeout=5))
    assert error["type"] == "error"
    assert error["code"] == "rate_limited"
    assert error["limit"] == "connections"
    assert error["retry_after"] >= 1
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_RATE_LIMITED}
    # Another address is not affected.
    other, accepted, _ = await open_socket(ip="198.51.100.50")
    assert accepted
    for socket in [*opened, other, communicator]:
        await socket.disconnect()


async def test_a_session_registering_in_a_loop_is_refused_with_4429(visitor_from, settings):
    settings.CHAT_REGISTERS_PER_MINUTE = 3
    first = await visitor_from()
    for _ in range(3):  # the first registration had no token yet: not counted
        tab = await VisitorSocket.open()
        await tab.register(token=first.token)
        await tab.close()
    tab = await VisitorSocket.open()
    await tab.send({"type": "register", "token": first.token})
    error = await tab.receive()
    assert error["code"] == "rate_limited"
    assert error["limit"] == "registrations"
    closed = await tab.communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_RATE_LIMITED}
    await tab.close()
