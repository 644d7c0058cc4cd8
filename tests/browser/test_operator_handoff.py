"""A visitor asks for a person; an operator takes the chat on /support/ and answers.

Two browser contexts: the visitor on a tour page, the operator logged in to
the dashboard through the login page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from playwright.async_api import expect

from chat.models import ChatMessage, Rating
from support.demo_canned import load_demo_canned_replies
from support.models import OfflineTicket
from tests.browser.personas import Visitor, screenshot
from tests.factories import make_operator, make_tour

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kazan-Kremlin-1552"
MONTHS = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"


def operator_with_password(name: str) -> str:
    user = make_operator(name=name)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return str(user.get_username())


async def visitor_asking_for_a_person(site, question: str, tour_path: str = "/") -> Visitor:
    visitor = await site.visitor(tour_path)
    await visitor.open_chat()
    await visitor.say(question)
    await visitor.wait_for_answer()
    await visitor.panel.get_by_role("button", name="Позвать оператора").click()
    return visitor


async def test_operator_takes_the_chat_and_the_visitor_sees_the_reply(site, model):
    day = date.today() + timedelta(days=20)
    tour = await sync_to_async(make_tour)(
        title="Древний Болгар",
        slug="bolgar-ancient-city",
        price_per_person=Decimal("3200.00"),
        start_date=day,
    )
    username = await sync_to_async(operator_with_password)("Айгуль")
    await sync_to_async(load_demo_canned_replies)("Айгуль")  # as `make run` seeds them
    operator = await site.operator(username, PASSWORD)
    await expect(operator.page.locator("#canned .chip").first).to_have_text("Приветствие")
    model.reply = "Я могу позвать оператора, он поможет с бронированием."

    visitor = await visitor_asking_for_a_person(
        site, "Хочу забронировать на четверых", tour.get_absolute_url()
    )
    notice = visitor.panel.get_by_role("status")
    await expect(notice).to_contain_text("в очереди")
    await expect(visitor.panel.locator(".status")).to_have_text("Ждём оператора…")

    # The operator sees the request, with the visitor's words and the tour, and takes it.
    request = operator.queue.locator("li").filter(has_text="Хочу забронировать на четверых")
    await expect(request).to_contain_text("Древний Болгар")
    await operator.take("Хочу забронировать на четверых")
    await expect(visitor.panel.locator(".status")).to_have_text("В чате оператор Айгуль")
    await expect(visitor.messages("system").last).to_contain_text("Айгуль подключается к чату.")
    await expect(notice).to_be_hidden()

    # The tour card reads as on the site: "21 декабря 2026", "3 200 ₽", unbreakable.
    card = operator.page.locator("#tour-card")
    await expect(card).to_contain_text("Древний Болгар")
    shown = await card.text_content()
    month = MONTHS.split()[day.month - 1]
    assert f"{day.day}\u00a0{month}\u00a0{day.year}" in str(shown), shown
    assert "3\u00a0200\u00a0₽" in str(shown), shown

    # The visitor sees the operator typing, then the reply, signed with her name.
    await operator.composer.press_sequentially("Здравствуйте", delay=30)
    await expect(visitor.widget.locator(".typing")).to_have_text("Айгуль печатает…")
    await operator.composer.fill("")
    await operator.reply("Здравствуйте! Забронирую для вас четыре места.")
    reply = visitor.messages("operator").last
    await expect(reply.locator(".text")).to_have_text(
        "Здравствуйте! Забронирую для вас четыре места."
    )
    await expect(reply.locator(".who")).to_have_text("Айгуль, оператор")
    await expect(visitor.widget.locator(".typing")).to_be_hidden()

    # The visitor answers; now it goes to the operator, not to the AI.
    await visitor.input.press_sequentially("Спасибо", delay=30)
    await expect(operator.page.locator("#typing-indicator")).to_be_visible()
    await visitor.input.fill("Спасибо! Нас будет двое взрослых и двое детей.")
    await visitor.input.press("Enter")
    await expect(operator.transcript.locator(".message.visitor").last).to_contain_text(
        "Нас будет двое взрослых и двое детей."
    )
    await screenshot(operator.page, "dashboard.png")
    assert await ChatMessage.objects.filter(author="ai").acount() == 1

    # The operator ends the chat; the visitor rates it.
    await operator.end_chat()
    await expect(visitor.messages("system").last).to_contain_text("Оператор завершил разговор.")
    await expect(visitor.panel.locator(".status")).to_have_text("Отвечает ИИ-ассистент")
    rating = visitor.panel.locator("form.rating")
    await expect(rating.get_by_text("Как мы вам помогли?")).to_be_visible()
    await rating.get_by_text("★").nth(0).click()  # the first in the DOM is 5 of 5
    await rating.get_by_placeholder("Комментарий (необязательно)").fill("Быстро и вежливо")
    await rating.get_by_role("button", name="Оценить").click()
    await expect(visitor.panel.get_by_text("Спасибо за оценку!")).to_be_visible()
    stored = await Rating.objects.aget()
    assert (stored.score, stored.comment) == (5, "Быстро и вежливо")

    # After a reload the visitor sees the conversation as it was, notices included.
    before = await visitor.texts()
    await visitor.reload()
    await expect(visitor.stored()).to_have_count(len(before))
    assert await visitor.texts() == before
    assert [t for t in before if "подключается" in t or "завершил" in t] == [
        "Айгуль подключается к чату.",
        "Оператор завершил разговор. Пожалуйста, оцените, как мы вам помогли. "
        "На ваши вопросы снова отвечает ИИ-ассистент.",
    ]
    # The dashboard and the login page loaded everything they asked for (favicon too).
    assert operator.failed_requests == []


async def test_no_operator_online_offers_the_offline_form(site, model):
    model.reply = "Сейчас позову человека."
    visitor = await visitor_asking_for_a_person(site, "Можно поговорить с человеком?")

    form = visitor.panel.locator("form.offline")
    await expect(form).to_contain_text("Сейчас нет операторов")
    await expect(form.get_by_label("Ваше имя")).to_be_focused()
    await expect(form.get_by_label("Вопрос")).to_have_value("Можно поговорить с человеком?")
    await form.get_by_label("Ваше имя").fill("Мария")
    await form.get_by_label("Телефон или e-mail").fill("12")
    await form.get_by_role("button", name="Отправить вопрос").click()
    await expect(form.get_by_role("alert")).to_have_text(re.compile(r"телефон", re.IGNORECASE))
    await expect(form.get_by_label("Телефон или e-mail")).to_be_focused()

    await form.get_by_label("Телефон или e-mail").fill("maria@example.ru")
    await form.get_by_role("button", name="Отправить вопрос").click()
    await expect(visitor.panel.get_by_text("Спасибо!")).to_be_visible()
    ticket = await OfflineTicket.objects.aget()
    assert (ticket.name, ticket.email, ticket.phone) == ("Мария", "maria@example.ru", "")
    assert ticket.question == "Можно поговорить с человеком?"


async def test_the_visitor_can_stop_waiting_and_the_ai_answers_again(site, model):
    from support.models import SupportRequest

    username = await sync_to_async(operator_with_password)("Ильдар")
    await site.operator(username, PASSWORD)  # online, so the chat is queued
    model.reply = "Передаю вас оператору."
    visitor = await visitor_asking_for_a_person(site, "Есть ли скидка для группы?")
    await expect(visitor.panel.locator(".status")).to_have_text("Ждём оператора…")

    await visitor.panel.get_by_role("button", name="Не ждать оператора").click()
    await expect(visitor.panel.locator(".status")).to_have_text("Отвечает ИИ-ассистент")
    await expect(visitor.panel.get_by_role("button", name="Позвать оператора")).to_be_visible()
    request = await SupportRequest.objects.aget()
    assert (request.status, request.closed_by) == ("abandoned", "visitor")
