"""A visitor on a tour page chats with the AI in a real browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from playwright.async_api import expect

from chat.models import ChatMessage, ChatSession
from tests.factories import make_tour
from tests.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

QUESTION = "Есть ли свободные места на Свияжск?"
ANSWER = (
    "Да, на «Остров-град Свияжск» ещё есть свободные места. Сбор в 9:00 у Кремля, "
    "трансфер на автобусе включён в цену. Хотите, расскажу, как забронировать?"
)


def squash(text: str) -> str:
    return " ".join(text.split())


async def stored_messages() -> list[tuple[str, str]]:
    rows = ChatMessage.objects.order_by("id").values_list("author", "text")
    return [row async for row in rows]


async def test_visitor_on_a_tour_page_sees_the_answer_stream_in(site, model):
    tour = await sync_to_async(make_tour)(
        title="Остров-град Свияжск", slug="sviyazhsk-island-town", place="Свияжск"
    )
    model.reply = ANSWER
    visitor = await site.visitor(tour.get_absolute_url())
    await expect(visitor.widget.get_by_role("button", name="Открыть чат поддержки")).to_be_visible()

    await visitor.open_chat()
    await expect(visitor.panel.get_by_role("heading")).to_have_text("Туры по Татарстану")
    await expect(visitor.panel.locator(".status")).to_have_text("Отвечает ИИ-ассистент")
    await visitor.record()
    await visitor.say(QUESTION)

    await expect(visitor.messages("visitor").locator(".text")).to_have_text(QUESTION)
    await visitor.wait_for_answer()
    answer = visitor.messages("ai")
    await expect(answer.locator(".text")).to_have_text(ANSWER)
    await expect(answer.locator(".who")).to_have_text("ИИ-ассистент")
    await expect(visitor.widget.locator(".typing")).to_be_hidden()
    await expect(visitor.input).to_have_value("")

    # It streamed: the assistant was shown typing, then the text grew in pieces.
    seen = await visitor.seen()
    assert "Ассистент печатает…" in seen["typing"]
    streamed = [squash(text) for text in seen["streams"]]
    assert len(streamed) >= 2, streamed
    assert all(squash(ANSWER).startswith(text) for text in streamed), streamed
    assert len(streamed[0]) < len(squash(ANSWER))

    # The server knows the tour page the visitor asked from.
    session = await ChatSession.objects.aget()
    assert session.tour_id == tour.pk
    assert await stored_messages() == [("visitor", QUESTION), ("ai", ANSWER)]
    assert QUESTION in str(model.last.json)


async def test_reload_keeps_the_conversation(site, model):
    model.reply = "Экскурсии по Казани проходят каждый день."
    visitor = await site.visitor("/")
    await visitor.open_chat()
    await visitor.say("Когда экскурсии по Казани?")
    await visitor.wait_for_answer()
    token = (await visitor.local_state())["token"]

    await visitor.reload()

    # The panel is open again, with the whole conversation, each message once.
    await expect(visitor.panel).to_be_visible()
    await expect(visitor.stored()).to_have_count(2)
    assert await visitor.texts() == [
        "Когда экскурсии по Казани?",
        "Экскурсии по Казани проходят каждый день.",
    ]
    assert (await visitor.local_state())["token"] == token
    assert await ChatSession.objects.acount() == 1

    # And the conversation goes on in the same session.
    model.reply = "Да, и по выходным тоже."
    await visitor.say("А по выходным?")
    await visitor.wait_for_answer(2)
    assert await ChatSession.objects.acount() == 1
    assert await ChatMessage.objects.filter(author="visitor").acount() == 2


async def test_a_visitor_who_never_opens_the_chat_creates_no_session(site):
    visitor = await site.visitor("/tours/")
    await visitor.page.wait_for_timeout(1000)  # time in which a socket would have registered
    assert await ChatSession.objects.acount() == 0

    await visitor.open_chat()

    async def registered() -> bool:
        return await ChatSession.objects.acount() == 1

    await eventually(registered)


MONTHS_IN = "январе феврале марте апреле мае июне июле августе сентябре октябре ноябре декабре"


@pytest.mark.parametrize("server_overrides", [{"OPENROUTER_API_KEY": ""}], ids=["offline"])
async def test_the_month_chip_asks_about_this_month_by_name(site):
    today = timezone.localdate()  # the site's day, as the widget's month is the visitor's
    await sync_to_async(make_tour)(title="Зимний Свияжск", start_date=today)
    await sync_to_async(make_tour)(
        title="Весенняя Раифа", start_date=today.replace(day=1) + timedelta(days=200)
    )
    visitor = await site.visitor("/")
    await visitor.open_chat()
    month = MONTHS_IN.split()[today.month - 1]
    chip = visitor.panel.get_by_role("button", name=f"Какие туры есть в {month}?")
    await chip.click()
    await expect(visitor.messages("visitor").locator(".text")).to_have_text(
        f"Какие туры есть в {month}?"
    )
    await visitor.wait_for_answer()
    answer = " ".join(await visitor.texts("ai"))
    assert "Зимний Свияжск" in answer and "Весенняя Раифа" not in answer, answer
