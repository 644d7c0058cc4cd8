"""Connection cuts while sending: every message arrives exactly once.

Real cuts: the daphne process is killed (SIGKILL) and a new one started on
the same port; or the socket is closed on both ends right after the server
stored a message, before its acknowledgement reached the page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import WebSocketRoute, expect

from chat.models import ChatMessage

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

CHAT_SOCKET = re.compile(r"/ws/chat/$")


async def count(author: str, text: str | None = None) -> int:
    messages = ChatMessage.objects.filter(author=author)
    if text is not None:
        messages = messages.filter(text=text)
    return await messages.acount()


async def test_message_sent_during_a_server_crash_arrives_once_after_restart(site, model):
    model.reply = "Конечно, расскажу."
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Здравствуйте!")
    await visitor.wait_for_answer()

    site.crash()
    banner = visitor.panel.get_by_role("alert")
    await expect(banner).to_have_text("Нет связи. Переподключаемся…")
    await visitor.say("Сколько стоит тур в Болгар?")
    unsent = visitor.messages("visitor").filter(has_text="Сколько стоит тур в Болгар?")
    await expect(unsent.locator(".state")).to_have_text("Отправляется…")
    assert len((await visitor.local_state())["outbox"]) == 1

    site.restart()

    # The widget's backoff reaches 8-15 s between attempts while the server is down.
    await expect(unsent).to_have_attribute("data-id", re.compile(r"^\d+$"), timeout=30_000)
    await expect(unsent.locator(".state")).to_have_text("")
    await expect(banner).to_be_hidden()
    await visitor.wait_for_answer(2)
    assert await count("visitor", "Сколько стоит тур в Болгар?") == 1
    assert await count("ai") == 2
    assert (await visitor.local_state())["outbox"] == []
    await expect(visitor.messages("visitor")).to_have_count(2)


async def test_message_from_a_tab_closed_during_the_cut_is_sent_when_the_visitor_returns(
    site, model
):
    model.reply = "Да, туры есть каждый месяц."
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Добрый день")
    await visitor.wait_for_answer()

    site.crash()
    await visitor.say("Есть ли туры в мае?")
    await expect(visitor.messages("visitor").last.locator(".state")).to_have_text("Отправляется…")
    await visitor.page.close()  # the visitor gives up and closes the tab

    site.restart()
    visitor.page = await visitor.context.new_page()
    await visitor.page.goto(site.url("/"))

    # The unsent message went from localStorage, once, and was answered.
    await expect(visitor.panel).to_be_visible()  # it was open when the tab closed
    await visitor.wait_for_answer(2)
    assert await visitor.texts("visitor") == ["Добрый день", "Есть ли туры в мае?"]
    assert await count("visitor", "Есть ли туры в мае?") == 1
    assert await count("ai") == 2


@pytest.mark.parametrize("cut_when", ["message lost on the way", "ack lost on the way back"])
async def test_socket_cut_around_a_message_still_delivers_it_exactly_once(site, model, cut_when):
    """The socket dies on both ends with the message in flight, at either side of the server.

    Lost on the way: the widget resends it with the same client_id after
    reconnecting. Stored but unacknowledged: the widget finds it (by client_id)
    in the history the server sends back on register, and must not add it twice.
    """
    model.reply = "Свияжск открыт круглый год."
    sent: list[dict[str, Any]] = []
    cuts: list[str] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        async def to_server(message: str | bytes) -> None:
            frame = json.loads(message)
            sent.append(frame)
            if cut_when == "message lost on the way" and frame["type"] == "message" and not cuts:
                cuts.append(frame["client_id"])
                await cut(page_side, server_side)
                return
            server_side.send(message)

        async def to_page(message: str | bytes) -> None:
            frame = json.loads(message)
            ack_to_lose = cut_when == "ack lost on the way back" and not cuts
            if ack_to_lose and frame["type"] == "message_ack":
                cuts.append(frame["client_id"])
                await cut(page_side, server_side)
                return
            page_side.send(message)

        page_side.on_message(to_server)
        server_side.on_message(to_page)

    visitor = await site.visitor(path=None)
    await visitor.page.route_web_socket(CHAT_SOCKET, route)
    await visitor.page.goto(site.url("/"))
    await visitor.open_chat()
    await visitor.say("Свияжск открыт зимой?")

    await visitor.wait_for_answer()
    stored = await ChatMessage.objects.aget(author="visitor")
    mine = visitor.messages("visitor")
    await expect(mine).to_have_count(1)
    await expect(mine).to_have_attribute("data-id", str(stored.id))
    await expect(mine.locator(".state")).to_have_text("")
    assert await count("ai") == 1
    assert stored.client_id == cuts[0]
    assert [frame["type"] for frame in sent].count("register") == 2
    messages = [frame for frame in sent if frame["type"] == "message"]
    assert {frame["client_id"] for frame in messages} == {stored.client_id}
    if cut_when == "message lost on the way":
        assert len(messages) == 2  # resent, same client_id
    assert (await visitor.local_state())["outbox"] == []


async def cut(page_side: WebSocketRoute, server_side: WebSocketRoute) -> None:
    await page_side.close(code=4000, reason="cut")
    await server_side.close()
